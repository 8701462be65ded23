namespace Sandbox.Diagnostics;

/// <summary>
/// Everything <see cref="HostProbe"/> asks of the host: reads of /proc, /sys, /dev and /etc, and opening a file to see
/// whether the kernel allows it. Nothing is created, written or left open. <see cref="HostFiles"/> is the real thing;
/// tests substitute a table.
/// </summary>
internal interface IHostFiles
{
    /// <summary>The contents of a small text file, or null if it does not exist or cannot be read.</summary>
    string? TryReadText(string path);

    /// <summary>Whether anything (file, directory, device) exists at <paramref name="path"/>.</summary>
    bool Exists(string path);

    /// <summary>The type, owner and mode of a directory or device node (lstat); null for anything else, or if it cannot be examined.</summary>
    HostFileStatus? TryGetStatus(string path);

    /// <summary>The names (not paths) of the subdirectories of <paramref name="path"/>; empty if it does not exist or cannot be listed.</summary>
    IReadOnlyList<string> ListDirectories(string path);

    /// <summary>
    /// Opens <paramref name="path"/> with <paramref name="access"/> and closes it at once, without reading or writing:
    /// null if the kernel allowed it, otherwise why not (e.g. <c>EACCES (permission denied)</c>).
    /// </summary>
    string? TryOpen(string path, FileAccess access);
}
