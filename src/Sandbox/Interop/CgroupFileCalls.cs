using System.Buffers;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Sandbox.Interop;

/// <summary>
/// The raw system calls behind the real cgroup file system (Cgroups.CgroupFileSystem): one openat + write + close per
/// value, openat + read + close per file, mkdirat, unlinkat(AT_REMOVEDIR), faccessat — each relative to a directory fd
/// kept open (or to the current directory for an absolute path), so a path is not walked from / every time and no
/// System.IO stat, lock or seek is added around the call. Each returns 0 or the errno; the caller names the failure.
/// </summary>
internal static unsafe class CgroupFileCalls
{
    private const int StackPathBytes = 512;

    /// <summary>open(O_PATH | O_DIRECTORY | O_CLOEXEC): a handle to resolve later paths against.</summary>
    public static int OpenDirectory(string path, out SafeFileHandle? directory)
    {
        directory = null;
        int fd = Relative(null, path, O_PATH | O_DIRECTORY | O_CLOEXEC, OpenCall);
        if (fd < 0)
            return -fd;
        directory = new SafeFileHandle(fd, ownsHandle: true);
        return 0;
    }

    /// <summary>openat(<paramref name="directory"/>, <paramref name="path"/>, O_PATH | O_DIRECTORY | O_CLOEXEC).</summary>
    public static int OpenDirectory(SafeFileHandle? directory, ReadOnlySpan<char> path, out SafeFileHandle? opened)
    {
        opened = null;
        int fd = Relative(directory, path, O_PATH | O_DIRECTORY | O_CLOEXEC, OpenCall);
        if (fd < 0)
            return -fd;
        opened = new SafeFileHandle(fd, ownsHandle: true);
        return 0;
    }

    /// <summary>mkdirat(<paramref name="directory"/>, <paramref name="path"/>, 0755).</summary>
    public static int MakeDirectory(SafeFileHandle? directory, ReadOnlySpan<char> path) =>
        -Relative(directory, path, 0, static (dirfd, p, _) => mkdirat(dirfd, p, 0x1ed) == 0 ? 0 : -errno);

    /// <summary>unlinkat(<paramref name="directory"/>, <paramref name="path"/>, AT_REMOVEDIR): rmdir, never recursive.</summary>
    public static int RemoveDirectory(SafeFileHandle? directory, ReadOnlySpan<char> path) =>
        -Relative(directory, path, 0, static (dirfd, p, _) => unlinkat(dirfd, p, AT_REMOVEDIR) == 0 ? 0 : -errno);

    /// <summary>faccessat(F_OK): 0 if something exists at <paramref name="path"/>, else the errno (ENOENT).</summary>
    public static int Exists(SafeFileHandle? directory, ReadOnlySpan<char> path) =>
        -Relative(directory, path, 0, static (dirfd, p, _) => faccessat(dirfd, p, F_OK, 0) == 0 ? 0 : -errno);

    /// <summary>
    /// Opens an existing file for writing (no O_CREAT, no O_TRUNC, offset 0) and writes <paramref name="bytes"/> with one
    /// write(2), as cgroupfs wants a value per write; a short write is EIO.
    /// </summary>
    public static int WriteFile(SafeFileHandle? directory, ReadOnlySpan<char> path, ReadOnlySpan<byte> bytes)
    {
        int fd = Relative(directory, path, O_WRONLY | O_CLOEXEC, OpenCall);
        if (fd < 0)
            return -fd;
        try
        {
            long n;
            fixed (byte* b = bytes)
            {
                do n = write(fd, b, (size_t)bytes.Length);
                while (n < 0 && errno == EINTR);
            }
            return n < 0 ? errno : n == bytes.Length ? 0 : EIO;
        }
        finally
        {
            close(fd);
        }
    }

    /// <summary>Opens a file for reading (O_RDONLY | O_CLOEXEC) into <paramref name="opened"/>; 0 or the errno.</summary>
    public static int OpenForReading(SafeFileHandle? directory, ReadOnlySpan<char> path, out SafeFileHandle? opened) =>
        Open(directory, path, O_RDONLY | O_CLOEXEC, out opened);

    /// <summary>Opens a file for writing (O_WRONLY | O_CLOEXEC, neither created nor truncated) into <paramref name="opened"/>; 0 or the errno.</summary>
    public static int OpenForWriting(SafeFileHandle? directory, ReadOnlySpan<char> path, out SafeFileHandle? opened) =>
        Open(directory, path, O_WRONLY | O_CLOEXEC, out opened);

    private static int Open(SafeFileHandle? directory, ReadOnlySpan<char> path, int flags, out SafeFileHandle? opened)
    {
        opened = null;
        int fd = Relative(directory, path, flags, OpenCall);
        if (fd < 0)
            return -fd;
        opened = new SafeFileHandle(fd, ownsHandle: true);
        return 0;
    }

    /// <summary>
    /// Reads an open file whole from its start with pread(2) (UTF-8): a cgroup control file answers afresh at offset 0,
    /// so one open file serves every later read, one system call each. Only for files whose whole text the kernel makes
    /// as one seq_file record (every cgroup control file but cgroup.procs, tasks and cgroup.threads, which list a record
    /// per process): a read that leaves room in the buffer has then returned all of it, and no second read is needed.
    /// </summary>
    public static int ReadOpenFile(SafeFileHandle file, out string? text)
    {
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            return ReadWhole((int)file.DangerousGetHandle(), fromStart: true, out text, oneRecord: true);
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    /// <summary>Reads the whole file (UTF-8) into <paramref name="text"/>.</summary>
    public static int ReadFile(SafeFileHandle? directory, ReadOnlySpan<char> path, out string? text)
    {
        text = null;
        int fd = Relative(directory, path, O_RDONLY | O_CLOEXEC, OpenCall);
        if (fd < 0)
            return -fd;
        try
        {
            return ReadWhole(fd, fromStart: false, out text);
        }
        finally
        {
            close(fd);
        }
    }

    /// <summary>
    /// Reads <paramref name="fd"/> to its end (UTF-8): from offset 0 with pread, or from where it is with read. With
    /// <paramref name="oneRecord"/>, a short read ends it (see <see cref="ReadOpenFile"/>).
    /// </summary>
    private static int ReadWhole(int fd, bool fromStart, out string? text, bool oneRecord = false)
    {
        text = null;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            int length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    byte[] bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                long n;
                fixed (byte* b = &buffer[length])
                {
                    do n = fromStart ? pread(fd, b, (size_t)(buffer.Length - length), length) : read(fd, b, (size_t)(buffer.Length - length));
                    while (n < 0 && errno == EINTR);
                }
                if (n < 0)
                    return errno;
                if (n == 0)
                    break;
                length += (int)n;
                if (oneRecord && length < buffer.Length)
                    break;
            }
            text = Encoding.UTF8.GetString(buffer, 0, length);
            return 0;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static readonly PathCall OpenCall = static (dirfd, p, flags) =>
    {
        int fd;
        do fd = openat(dirfd, p, flags, 0);
        while (fd < 0 && errno == EINTR);
        return fd < 0 ? -errno : fd;
    };

    /// <summary>A call on a NUL-terminated path relative to a directory fd: a result ≥ 0, or -errno.</summary>
    private delegate int PathCall(int dirfd, byte* path, int argument);

    /// <summary>Runs <paramref name="call"/> with the directory's fd (AT_FDCWD when null) and the path as NUL-terminated UTF-8.</summary>
    private static int Relative(SafeFileHandle? directory, ReadOnlySpan<char> path, int argument, PathCall call)
    {
        int max = Encoding.UTF8.GetMaxByteCount(path.Length) + 1;
        Span<byte> bytes = max <= StackPathBytes ? stackalloc byte[StackPathBytes] : new byte[max];
        bytes[Encoding.UTF8.GetBytes(path, bytes)] = 0;
        bool added = false;
        try
        {
            int dirfd = AT_FDCWD;
            if (directory is not null)
            {
                directory.DangerousAddRef(ref added);
                dirfd = (int)directory.DangerousGetHandle();
            }
            fixed (byte* p = bytes)
                return call(dirfd, p, argument);
        }
        finally
        {
            if (added)
                directory!.DangerousRelease();
        }
    }
}
