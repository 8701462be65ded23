namespace Sandbox.Interop;

/// <summary>What statx (not following a symlink) says about one file.</summary>
internal readonly record struct FileNodeStatus(uint Mode, uint Uid, uint Gid, ulong Size, ulong Blocks, uint LinkCount, ulong Inode, uint RdevMajor, uint RdevMinor,
    long ModificationSeconds = 0, uint ModificationNanoseconds = 0)
{
    public uint Type => Mode & FileSystemCalls.SIfMt;

    public bool IsDirectory => Type == FileSystemCalls.SIfDir;

    public bool IsRegularFile => Type == FileSystemCalls.SIfReg;

    public bool IsSymlink => Type == FileSystemCalls.SIfLnk;

    /// <summary>An overlayfs whiteout: a character device with device number 0/0.</summary>
    public bool IsOverlayWhiteout => Type == FileSystemCalls.SIfChr && RdevMajor == 0 && RdevMinor == 0;

    /// <summary>The permission bits with setuid, setgid and sticky.</summary>
    public uint Permissions => Mode & 0xFFF;

    /// <summary>The last modification time (statx stx_mtime).</summary>
    public DateTimeOffset ModificationTime => DateTimeOffset.UnixEpoch.AddTicks(ModificationSeconds * TimeSpan.TicksPerSecond + ModificationNanoseconds / 100);
}
