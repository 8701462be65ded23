using System.Runtime.InteropServices;

namespace Sandbox.Interop;

/// <summary>
/// The *at file-system calls image layers are unpacked with: every one relative to a directory descriptor
/// and none following a symbolic link at the last component (libc wrappers; openat2 through syscall()).
/// </summary>
/// <remarks>Numbers and flags are the same on x86_64 and aarch64 except the O_ flags noted.</remarks>
internal static unsafe partial class FileSystemCalls
{
    private const string Libc = "libc";
    private const long SysOpenat2 = 437;

    public const int ORdOnly = 0;
    public const int OWrOnly = 1;
    public const int OCreat = 0x40;
    public const int OExcl = 0x80;
    public const int OTrunc = 0x200;
    public const int OCloexec = 0x80000;
    public const int OPath = 0x200000;
    public static readonly int ODirectory = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000 : 0x10000;
    public static readonly int ONoFollow = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x8000 : 0x20000;

    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const int AtRemoveDir = 0x200;
    public const int AtEmptyPath = 0x1000;

    public const ulong ResolveNoXdev = 0x01;
    public const ulong ResolveNoMagicLinks = 0x02;
    public const ulong ResolveNoSymlinks = 0x04;
    public const ulong ResolveBeneath = 0x08;

    public const uint RenameNoReplace = 1;

    public const int LockSh = 1;
    public const int LockEx = 2;
    public const int LockNb = 4;
    public const int LockUn = 8;

    public const uint SIfMt = 0xF000;
    public const uint SIfDir = 0x4000;
    public const uint SIfReg = 0x8000;
    public const uint SIfLnk = 0xA000;
    public const uint SIfChr = 0x2000;
    public const uint SIfBlk = 0x6000;
    public const uint SIfIfo = 0x1000;

    public const int XattrCreate = 1;

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EACCES = 13;
    public const int EEXIST = 17;
    public const int EXDEV = 18;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENAMETOOLONG = 36;
    public const int ENOTEMPTY = 39;
    public const int ELOOP = 40;
    public const int ENODATA = 61;
    public const int EOPNOTSUPP = 95;
    public const int EWOULDBLOCK = 11;

    /// <summary>struct open_how.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    /// <summary>struct timespec (64-bit).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>struct statx_timestamp.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct StatxTimestamp
    {
        public long Seconds;
        public uint Nanoseconds;
        public int Reserved;
    }

    /// <summary>struct statx (the fields up to stx_dev_minor; the kernel fills 256 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    public struct Statx
    {
        public uint Mask;
        public uint BlockSize;
        public ulong Attributes;
        public uint LinkCount;
        public uint Uid;
        public uint Gid;
        public ushort Mode;
        public ushort Spare0;
        public ulong Inode;
        public ulong Size;
        public ulong Blocks;
        public ulong AttributesMask;
        public StatxTimestamp AccessTime;
        public StatxTimestamp BirthTime;
        public StatxTimestamp ChangeTime;
        public StatxTimestamp ModificationTime;
        public uint RdevMajor;
        public uint RdevMinor;
        public uint DevMajor;
        public uint DevMinor;
    }

    public const uint StatxBasicStats = 0x7ff;

    [LibraryImport(Libc, SetLastError = true)]
    private static partial long syscall(long number, int dirfd, byte* path, OpenHow* how, nuint size);

    /// <summary>openat2(2): the path resolved with <paramref name="resolve"/> (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS ...).</summary>
    public static int Openat2(int dirfd, byte* path, ulong flags, ulong mode, ulong resolve)
    {
        var how = new OpenHow { Flags = flags, Mode = mode, Resolve = resolve };
        long r;
        do r = syscall(SysOpenat2, dirfd, path, &how, (nuint)sizeof(OpenHow));
        while (r < 0 && Marshal.GetLastPInvokeError() == EINTR);
        return (int)r;
    }

    [LibraryImport(Libc, EntryPoint = "openat", SetLastError = true)]
    public static partial int Openat(int dirfd, byte* path, int flags, uint mode);

    [LibraryImport(Libc, EntryPoint = "close")]
    public static partial int Close(int fd);

    [LibraryImport(Libc, EntryPoint = "mkdirat", SetLastError = true)]
    public static partial int Mkdirat(int dirfd, byte* path, uint mode);

    [LibraryImport(Libc, EntryPoint = "mknodat", SetLastError = true)]
    public static partial int Mknodat(int dirfd, byte* path, uint mode, ulong dev);

    [LibraryImport(Libc, EntryPoint = "symlinkat", SetLastError = true)]
    public static partial int Symlinkat(byte* target, int newdirfd, byte* linkpath);

    [LibraryImport(Libc, EntryPoint = "linkat", SetLastError = true)]
    public static partial int Linkat(int olddirfd, byte* oldpath, int newdirfd, byte* newpath, int flags);

    [LibraryImport(Libc, EntryPoint = "unlinkat", SetLastError = true)]
    public static partial int Unlinkat(int dirfd, byte* path, int flags);

    [LibraryImport(Libc, EntryPoint = "renameat2", SetLastError = true)]
    public static partial int Renameat2(int olddirfd, byte* oldpath, int newdirfd, byte* newpath, uint flags);

    [LibraryImport(Libc, EntryPoint = "fchownat", SetLastError = true)]
    public static partial int Fchownat(int dirfd, byte* path, uint owner, uint group, int flags);

    [LibraryImport(Libc, EntryPoint = "fchown", SetLastError = true)]
    public static partial int Fchown(int fd, uint owner, uint group);

    [LibraryImport(Libc, EntryPoint = "fchmod", SetLastError = true)]
    public static partial int Fchmod(int fd, uint mode);

    [LibraryImport(Libc, EntryPoint = "fchmodat", SetLastError = true)]
    public static partial int Fchmodat(int dirfd, byte* path, uint mode, int flags);

    [LibraryImport(Libc, EntryPoint = "utimensat", SetLastError = true)]
    public static partial int Utimensat(int dirfd, byte* path, TimeSpec* times, int flags);

    [LibraryImport(Libc, EntryPoint = "futimens", SetLastError = true)]
    public static partial int Futimens(int fd, TimeSpec* times);

    [LibraryImport(Libc, EntryPoint = "fsetxattr", SetLastError = true)]
    public static partial int Fsetxattr(int fd, byte* name, byte* value, nuint size, int flags);

    [LibraryImport(Libc, EntryPoint = "lsetxattr", SetLastError = true)]
    public static partial int Lsetxattr(byte* path, byte* name, byte* value, nuint size, int flags);

    [LibraryImport(Libc, EntryPoint = "lgetxattr", SetLastError = true)]
    public static partial nint Lgetxattr(byte* path, byte* name, byte* value, nuint size);

    [LibraryImport(Libc, EntryPoint = "llistxattr", SetLastError = true)]
    public static partial nint Llistxattr(byte* path, byte* list, nuint size);

    [LibraryImport(Libc, EntryPoint = "readlinkat", SetLastError = true)]
    public static partial nint Readlinkat(int dirfd, byte* path, byte* buffer, nuint size);

    [LibraryImport(Libc, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport(Libc, EntryPoint = "statx", SetLastError = true)]
    public static partial int StatxCall(int dirfd, byte* path, int flags, uint mask, Statx* buffer);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "geteuid")]
    public static partial uint Geteuid();

    [LibraryImport(Libc, EntryPoint = "getegid")]
    public static partial uint Getegid();

    /// <summary>makedev(3) for Linux's 64-bit dev_t.</summary>
    public static ulong MakeDevice(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) |
        ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);
}
