namespace Sandbox.Interop;

/// <summary>What the planner may ask of the host's file system: read-only, no following of the last symlink.</summary>
internal interface IHostFileSystem
{
    /// <summary>The kind of the file at <paramref name="path"/> (lstat: a symlink is reported as one).</summary>
    HostFileKind GetKind(string path);

    /// <summary>The text of the symbolic link at <paramref name="path"/>.</summary>
    string ReadLink(string path);

    /// <summary>The contents of a small text file, or null if it does not exist or cannot be read.</summary>
    string? TryReadText(string path);
}

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
