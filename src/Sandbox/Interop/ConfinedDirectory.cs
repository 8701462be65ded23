using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using static Sandbox.Interop.FileSystemCalls;

namespace Sandbox.Interop;

/// <summary>
/// A directory that nothing written through it can leave: every path is relative, its parent is opened with
/// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV), and the last
/// component is created or changed with an *at call that does not follow a symbolic link. A symlink anywhere
/// on the way (one the layer made, or one that was there) is an error, never followed.
/// </summary>
/// <remarks>
/// Paths are normalised relative paths ("a/b/c": no leading slash, no empty, "." or ".." component); ""
/// is the directory itself. Parent directory descriptors are cached; <see cref="Forget"/> drops those at or
/// beneath a path that was removed or replaced.
/// </remarks>
internal sealed unsafe class ConfinedDirectory : IDisposable
{
    private const ulong Confined = ResolveBeneath | ResolveNoSymlinks | ResolveNoMagicLinks | ResolveNoXdev;
    private const int MaxCachedParents = 128;

    private readonly SafeFileHandle _root;
    private readonly Dictionary<string, SafeFileHandle> _parents = new(StringComparer.Ordinal);

    private ConfinedDirectory(SafeFileHandle root, string path)
    {
        _root = root;
        Path = path;
    }

    /// <summary>The host path of the directory (trusted: given by the caller, not by the layer).</summary>
    public string Path { get; }

    /// <summary>Opens <paramref name="path"/>, which must be a directory.</summary>
    public static ConfinedDirectory Open(string path)
    {
        int fd;
        fixed (byte* p = LinuxSyscalls.NulTerminated(path))
            fd = Openat(AtFdCwd, p, OPath | ODirectory | OCloexec, 0);
        if (fd < 0)
            throw new FileSystemCallException("open directory", path, Marshal.GetLastPInvokeError());
        return new ConfinedDirectory(new SafeFileHandle(fd, ownsHandle: true), path);
    }

    /// <summary>Splits "a/b/c" into "a/b" and "c" ("" and "c" for "c").</summary>
    public static (string Parent, string Name) Split(string relative)
    {
        int slash = relative.LastIndexOf('/');
        return slash < 0 ? ("", relative) : (relative[..slash], relative[(slash + 1)..]);
    }

    /// <summary>Drops cached descriptors of <paramref name="relative"/> and everything beneath it.</summary>
    public void Forget(string relative)
    {
        if (_parents.Count == 0) return;
        if (relative.Length == 0)
        {
            ClearCache();
            return;
        }
        List<string>? stale = null;
        foreach (var key in _parents.Keys)
            if (key == relative || (key.Length > relative.Length && key[relative.Length] == '/' && key.StartsWith(relative, StringComparison.Ordinal)))
                (stale ??= []).Add(key);
        if (stale is null) return;
        foreach (var key in stale)
        {
            _parents[key].Dispose();
            _parents.Remove(key);
        }
    }

    private void ClearCache()
    {
        foreach (var handle in _parents.Values) handle.Dispose();
        _parents.Clear();
    }

    /// <summary>An O_PATH descriptor of the directory <paramref name="relative"/>, resolved beneath the root without symlinks.</summary>
    private int Directory(string relative)
    {
        if (relative.Length == 0)
            return (int)_root.DangerousGetHandle();
        if (_parents.TryGetValue(relative, out var cached))
            return (int)cached.DangerousGetHandle();
        var handle = OpenConfined(relative);
        if (_parents.Count >= MaxCachedParents) ClearCache();
        _parents[relative] = handle;
        return (int)handle.DangerousGetHandle();
    }

    private SafeFileHandle OpenConfined(string relative)
    {
        int fd;
        fixed (byte* p = Utf8(relative))
            fd = Openat2((int)_root.DangerousGetHandle(), p, (ulong)(OPath | ODirectory | OCloexec), 0, Confined);
        if (fd < 0)
            throw new FileSystemCallException("openat2", relative, Marshal.GetLastPInvokeError());
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>statx of <paramref name="relative"/> without following a final symlink; null if it does not exist.</summary>
    public FileNodeStatus? TryStatus(string relative)
    {
        var (parent, name) = Split(relative);
        int dir;
        try
        {
            dir = Directory(parent);
        }
        catch (FileSystemCallException e) when (e.Errno is ENOENT)
        {
            return null;
        }
        Statx st;
        int r;
        if (relative.Length == 0)
        {
            fixed (byte* p = "\0"u8)
                r = StatxCall(dir, p, AtEmptyPath | AtSymlinkNoFollow, StatxBasicStats, &st);
        }
        else
        {
            fixed (byte* p = Utf8(name))
                r = StatxCall(dir, p, AtSymlinkNoFollow, StatxBasicStats, &st);
        }
        if (r != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == ENOENT) return null;
            throw new FileSystemCallException("statx", relative, errno);
        }
        return new FileNodeStatus(st.Mode, st.Uid, st.Gid, st.Size, st.Blocks, st.LinkCount, st.Inode, st.RdevMajor, st.RdevMinor,
            st.ModificationTime.Seconds, st.ModificationTime.Nanoseconds);
    }

    /// <summary>mkdirat; false if something already exists there.</summary>
    public bool TryCreateDirectory(string relative, uint mode)
    {
        var (parent, name) = Split(relative);
        int r;
        fixed (byte* p = Utf8(name))
            r = Mkdirat(Directory(parent), p, mode);
        if (r == 0) return true;
        int errno = Marshal.GetLastPInvokeError();
        if (errno == EEXIST) return false;
        throw new FileSystemCallException("mkdirat", relative, errno);
    }

    /// <summary>Creates a new regular file (O_CREAT | O_EXCL | O_NOFOLLOW) open for writing.</summary>
    public SafeFileHandle CreateFile(string relative, uint mode)
    {
        var (parent, name) = Split(relative);
        int fd;
        fixed (byte* p = Utf8(name))
            fd = Openat(Directory(parent), p, OWrOnly | OCreat | OExcl | ONoFollow | OCloexec, mode);
        if (fd < 0)
            throw new FileSystemCallException("openat", relative, Marshal.GetLastPInvokeError());
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Opens an existing directory read-only (for fsetxattr), refusing a symlink anywhere.</summary>
    public SafeFileHandle OpenDirectoryForMetadata(string relative)
    {
        int fd;
        if (relative.Length == 0)
        {
            fixed (byte* p = ".\0"u8)
                fd = Openat((int)_root.DangerousGetHandle(), p, ORdOnly | ODirectory | OCloexec, 0);
        }
        else
        {
            fixed (byte* p = Utf8(relative))
                fd = Openat2((int)_root.DangerousGetHandle(), p, (ulong)(ORdOnly | ODirectory | ONoFollow | OCloexec), 0, Confined);
        }
        if (fd < 0)
            throw new FileSystemCallException("openat2", relative, Marshal.GetLastPInvokeError());
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>symlinkat: a link whose text is <paramref name="target"/> (never resolved here).</summary>
    public void CreateSymlink(string relative, string target)
    {
        var (parent, name) = Split(relative);
        int r;
        fixed (byte* t = Utf8(target))
        fixed (byte* p = Utf8(name))
            r = Symlinkat(t, Directory(parent), p);
        if (r != 0)
            throw new FileSystemCallException("symlinkat", relative, Marshal.GetLastPInvokeError());
    }

    /// <summary>linkat without following: <paramref name="relative"/> becomes another name of <paramref name="existing"/>.</summary>
    public void CreateHardLink(string relative, string existing)
    {
        var (parent, name) = Split(relative);
        var (existingParent, existingName) = Split(existing);
        // The existing file's directory is opened on its own: taking two descriptors from the cache could evict the first.
        using var source = existingParent.Length == 0 ? null : OpenConfined(existingParent);
        int sourceFd = source is null ? (int)_root.DangerousGetHandle() : (int)source.DangerousGetHandle();
        int r;
        fixed (byte* o = Utf8(existingName))
        fixed (byte* p = Utf8(name))
            r = Linkat(sourceFd, o, Directory(parent), p, 0);
        if (r != 0)
            throw new FileSystemCallException("linkat", relative, Marshal.GetLastPInvokeError());
    }

    /// <summary>mknodat: a device node or FIFO (<paramref name="mode"/> carries the S_IF type).</summary>
    public void CreateNode(string relative, uint mode, ulong device)
    {
        var (parent, name) = Split(relative);
        int r;
        fixed (byte* p = Utf8(name))
            r = Mknodat(Directory(parent), p, mode, device);
        if (r != 0)
            throw new FileSystemCallException("mknodat", relative, Marshal.GetLastPInvokeError());
    }

    /// <summary>fchownat(AT_SYMLINK_NOFOLLOW).</summary>
    public void SetOwner(string relative, uint uid, uint gid)
    {
        var (parent, name) = Split(relative);
        int r;
        if (relative.Length == 0)
        {
            fixed (byte* p = "\0"u8)
                r = Fchownat(Directory(""), p, uid, gid, AtEmptyPath | AtSymlinkNoFollow);
        }
        else
        {
            fixed (byte* p = Utf8(name))
                r = Fchownat(Directory(parent), p, uid, gid, AtSymlinkNoFollow);
        }
        if (r != 0)
            throw new FileSystemCallException("fchownat", relative, Marshal.GetLastPInvokeError());
    }

    /// <summary>fchmodat(AT_SYMLINK_NOFOLLOW): fails rather than change what a symlink points to.</summary>
    public void SetMode(string relative, uint mode)
    {
        var (parent, name) = Split(relative);
        int r;
        fixed (byte* p = Utf8(relative.Length == 0 ? "." : name))
            r = Fchmodat(Directory(parent), p, mode & 0xFFF, relative.Length == 0 ? 0 : AtSymlinkNoFollow);
        if (r != 0)
            throw new FileSystemCallException("fchmodat", relative, Marshal.GetLastPInvokeError());
    }

    /// <summary>utimensat(AT_SYMLINK_NOFOLLOW): access and modification times.</summary>
    public void SetTimes(string relative, DateTimeOffset accessTime, DateTimeOffset modificationTime)
    {
        var (parent, name) = Split(relative);
        TimeSpec* times = stackalloc TimeSpec[2];
        times[0] = ToTimeSpec(accessTime);
        times[1] = ToTimeSpec(modificationTime);
        int r;
        fixed (byte* p = Utf8(relative.Length == 0 ? "." : name))
            r = Utimensat(Directory(parent), p, times, relative.Length == 0 ? 0 : AtSymlinkNoFollow);
        if (r != 0)
            throw new FileSystemCallException("utimensat", relative, Marshal.GetLastPInvokeError());
    }

    /// <summary>futimens on an open file.</summary>
    public static void SetTimes(SafeFileHandle file, DateTimeOffset accessTime, DateTimeOffset modificationTime, string relative)
    {
        TimeSpec* times = stackalloc TimeSpec[2];
        times[0] = ToTimeSpec(accessTime);
        times[1] = ToTimeSpec(modificationTime);
        if (Futimens((int)file.DangerousGetHandle(), times) != 0)
            throw new FileSystemCallException("futimens", relative, Marshal.GetLastPInvokeError());
    }

    /// <summary>fchown and fchmod on an open file (in that order, so setuid/setgid bits survive).</summary>
    public static void SetOwnerAndMode(SafeFileHandle file, uint? uid, uint? gid, uint mode, string relative)
    {
        int fd = (int)file.DangerousGetHandle();
        if (uid is { } u && gid is { } g && Fchown(fd, u, g) != 0)
            throw new FileSystemCallException("fchown", relative, Marshal.GetLastPInvokeError());
        if (Fchmod(fd, mode & 0xFFF) != 0)
            throw new FileSystemCallException("fchmod", relative, Marshal.GetLastPInvokeError());
    }

    /// <summary>fsetxattr on an open file or directory.</summary>
    public static void SetExtendedAttribute(SafeFileHandle file, string name, ReadOnlySpan<byte> value, string relative)
    {
        int r;
        fixed (byte* n = Utf8(name))
        fixed (byte* v = value)
            r = Fsetxattr((int)file.DangerousGetHandle(), n, v, (nuint)value.Length, 0);
        if (r != 0)
            throw new FileSystemCallException($"fsetxattr {name}", relative, Marshal.GetLastPInvokeError());
    }

    /// <summary>lsetxattr on a node that cannot be opened (a symlink, a device): through the parent's descriptor.</summary>
    public void SetExtendedAttribute(string relative, string name, ReadOnlySpan<byte> value)
    {
        var (parent, child) = Split(relative);
        string viaParent = $"/proc/self/fd/{Directory(parent)}/{child}";
        int r;
        fixed (byte* p = Utf8(viaParent))
        fixed (byte* n = Utf8(name))
        fixed (byte* v = value)
            r = Lsetxattr(p, n, v, (nuint)value.Length, 0);
        if (r != 0)
            throw new FileSystemCallException($"lsetxattr {name}", relative, Marshal.GetLastPInvokeError());
    }

    /// <summary>Opens an existing regular file for reading (O_NOFOLLOW), refusing a symlink anywhere.</summary>
    public SafeFileHandle OpenForReading(string relative)
    {
        var (parent, name) = Split(relative);
        int fd;
        fixed (byte* p = Utf8(name))
            fd = Openat(Directory(parent), p, ORdOnly | ONoFollow | OCloexec, 0);
        if (fd < 0)
            throw new FileSystemCallException("openat", relative, Marshal.GetLastPInvokeError());
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>readlinkat: the text of the symbolic link <paramref name="relative"/> (never resolved).</summary>
    public string ReadSymlink(string relative)
    {
        var (parent, name) = Split(relative);
        byte[] buffer = new byte[4096];
        nint n;
        fixed (byte* p = Utf8(name))
        fixed (byte* b = buffer)
            n = Readlinkat(Directory(parent), p, b, (nuint)buffer.Length);
        if (n < 0)
            throw new FileSystemCallException("readlinkat", relative, Marshal.GetLastPInvokeError());
        if (n == buffer.Length)
            throw new FileSystemCallException("readlinkat", relative, ENAMETOOLONG);
        return Encoding.UTF8.GetString(buffer, 0, (int)n);
    }

    /// <summary>
    /// The extended attributes of <paramref name="relative"/> (not following a final symlink), name and exact value,
    /// sorted by name; empty where the file system has none.
    /// </summary>
    public List<(string Name, byte[] Value)> ReadExtendedAttributes(string relative)
    {
        string path = relative.Length == 0 ? $"/proc/self/fd/{Directory("")}" : $"/proc/self/fd/{Directory(Split(relative).Parent)}/{Split(relative).Name}";
        byte[] pathBytes = Utf8(path);
        var result = new List<(string, byte[])>();
        byte[] names = new byte[65536];
        nint length;
        fixed (byte* p = pathBytes)
        fixed (byte* l = names)
            length = Llistxattr(p, l, (nuint)names.Length);
        if (length < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EOPNOTSUPP) return result;
            throw new FileSystemCallException("llistxattr", relative, errno);
        }
        byte[] value = new byte[65536];
        for (int start = 0; start < length;)
        {
            int end = Array.IndexOf(names, (byte)0, start, (int)length - start);
            if (end < 0) end = (int)length;
            string name = Encoding.UTF8.GetString(names, start, end - start);
            nint n;
            fixed (byte* p = pathBytes)
            fixed (byte* k = Utf8(name))
            fixed (byte* v = value)
                n = Lgetxattr(p, k, v, (nuint)value.Length);
            if (n >= 0)
            {
                result.Add((name, value[..(int)n]));
            }
            else
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno is not (ENODATA or EOPNOTSUPP))
                    throw new FileSystemCallException($"lgetxattr {name}", relative, errno); // gone meanwhile: skipped
            }
            start = end + 1;
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return result;
    }

    /// <summary>The names in directory <paramref name="relative"/> (listed through its confined descriptor).</summary>
    public List<string> List(string relative)
    {
        using var dir = OpenDirectoryForMetadata(relative);
        var names = new List<string>();
        foreach (var entry in System.IO.Directory.EnumerateFileSystemEntries($"/proc/self/fd/{(int)dir.DangerousGetHandle()}"))
            names.Add(System.IO.Path.GetFileName(entry));
        return names;
    }

    /// <summary>
    /// Removes <paramref name="relative"/>, a whole tree if it is a directory, never following a symlink; a
    /// directory it may not enter is made accessible first. False if there was nothing to remove.
    /// </summary>
    public bool Remove(string relative)
    {
        if (TryStatus(relative) is not { } status) return false;
        Forget(relative);
        if (status.IsDirectory)
        {
            if ((status.Mode & 0x1C0) != 0x1C0)
                SetMode(relative, status.Permissions | 0x1C0);
            foreach (var child in List(relative))
                Remove(relative.Length == 0 ? child : relative + "/" + child);
            if (relative.Length == 0) return true;
        }
        var (parent, name) = Split(relative);
        int r;
        fixed (byte* p = Utf8(name))
            r = Unlinkat(Directory(parent), p, status.IsDirectory ? AtRemoveDir : 0);
        if (r != 0)
            throw new FileSystemCallException("unlinkat", relative, Marshal.GetLastPInvokeError());
        if (status.IsDirectory) Forget(relative); // removing its children cached it again: a directory made there anew is another
        return true;
    }

    private static TimeSpec ToTimeSpec(DateTimeOffset time)
    {
        long ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rest);
        if (rest < 0)
        {
            seconds--;
            rest += TimeSpan.TicksPerSecond;
        }
        return new TimeSpec { Seconds = seconds, Nanoseconds = rest * 100 };
    }

    private static byte[] Utf8(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    public void Dispose()
    {
        ClearCache();
        _root.Dispose();
    }
}
