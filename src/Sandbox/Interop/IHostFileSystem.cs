namespace Sandbox.Interop;

/// <summary>What the planner may ask of the host's file system: read-only, no following of the last symlink.</summary>
internal interface IHostFileSystem
{
    /// <summary>The kind of the file at <paramref name="path"/> (lstat: a symlink is reported as one).</summary>
    HostFileKind GetKind(string path) => GetKind(path, out _);

    /// <summary>
    /// The kind of the file at <paramref name="path"/> and which file it is (its device and inode, from the same lstat;
    /// default when it is missing).
    /// </summary>
    HostFileKind GetKind(string path, out FileIdentity identity);

    /// <summary>The text of the symbolic link at <paramref name="path"/>.</summary>
    string ReadLink(string path);

    /// <summary>The contents of a small text file, or null if it does not exist or cannot be read.</summary>
    string? TryReadText(string path);
}

/// <summary>Which file a path named when it was looked at: another file put in its place (a rename over it) has another.</summary>
/// <param name="Device">st_dev.</param>
/// <param name="Inode">st_ino.</param>
internal readonly record struct FileIdentity(ulong Device, ulong Inode);

/// <summary>File kinds the planner distinguishes.</summary>
internal enum HostFileKind
{
    Missing,
    Directory,
    RegularFile,
    Symlink,
    CharacterDevice,
    Other,
}
