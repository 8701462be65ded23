using System.Text;
using Microsoft.Win32.SafeHandles;
using Sandbox.Interop;

namespace Sandbox.Cgroups;

/// <summary>
/// The real <see cref="ICgroupFileSystem"/>. Reads, writes, mkdir, rmdir and existence checks are single system calls
/// (<see cref="CgroupFileCalls"/>), resolved relative to the directories handed to <see cref="AnchorDirectory"/> (the
/// parents of sandbox cgroups) so that the hot path neither walks /sys/fs/cgroup/... from / nor pays for System.IO's
/// stat, lock and seek around each call; listing, access checks and links use System.IO.
/// </summary>
internal sealed class CgroupFileSystem : ICgroupFileSystem
{
    /// <summary>The shared instance.</summary>
    public static CgroupFileSystem Instance { get; } = new();

    private static readonly FileStreamOptions WriteOptions = new()
    {
        Mode = FileMode.Open,
        Access = FileAccess.Write,
        Share = FileShare.ReadWrite,
        BufferSize = 0,
    };

    private readonly Lock _anchorGate = new();
    private Anchor[] _anchors = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SafeFileHandle> _kept = new(StringComparer.Ordinal);

    /// <summary>A file system of its own (its own open directories); the runner uses <see cref="Instance"/>.</summary>
    internal CgroupFileSystem()
    {
    }

    /// <summary>An open directory and its path with a trailing slash, to resolve the paths beneath it against.</summary>
    private sealed record Anchor(string Prefix, SafeFileHandle Handle);

    /// <summary>The number of directories kept open (a test's window into the cache).</summary>
    internal int AnchorCount => Volatile.Read(ref _anchors).Length;

    public void AnchorDirectory(string directory)
    {
        string prefix = directory.TrimEnd('/') + "/";
        lock (_anchorGate)
        {
            if (_anchors.Any(a => a.Prefix == prefix))
            {
                return;
            }
            int errno = CgroupFileCalls.OpenDirectory(directory, out SafeFileHandle? handle);
            if (errno != 0)
            {
                throw new CgroupIOException("open", directory, errno);
            }
            // Longest prefix first, so a nested anchor wins; published whole, so readers need no lock.
            Volatile.Write(ref _anchors, [.. _anchors.Append(new Anchor(prefix, handle!)).OrderByDescending(a => a.Prefix.Length)]);
        }
    }

    public string ReadText(string path) =>
        TryReadText(path) ?? throw new CgroupIOException("read", path, CgroupIOException.ENOENT);

    public void KeepOpen(IReadOnlyList<string> files)
    {
        foreach (string path in files)
        {
            (SafeFileHandle? directory, ReadOnlyMemory<char> relative) = Resolve(path);
            if (CgroupFileCalls.OpenForReading(directory, relative.Span, out SafeFileHandle? opened) != 0)
                continue;
            if (!_kept.TryAdd(path, opened!))
                opened!.Dispose();
        }
    }

    public string? TryReadText(string path)
    {
        if (_kept.TryGetValue(path, out SafeFileHandle? kept) && CgroupFileCalls.ReadOpenFile(kept, out string? keptText) == 0)
            return keptText;
        (SafeFileHandle? directory, ReadOnlyMemory<char> relative) = Resolve(path);
        int errno = CgroupFileCalls.ReadFile(directory, relative.Span, out string? text);
        return errno switch
        {
            0 => text,
            CgroupIOException.ENOENT or CgroupIOException.ENOTDIR => null,
            _ => throw new CgroupIOException("read", path, errno),
        };
    }

    public void WriteText(string path, string text)
    {
        (SafeFileHandle? directory, ReadOnlyMemory<char> relative) = Resolve(path);
        Span<byte> bytes = text.Length <= 256 ? stackalloc byte[text.Length] : new byte[text.Length];
        if (Encoding.ASCII.GetBytes(text, bytes) != bytes.Length)
        {
            throw new CgroupIOException($"write '{text.TrimEnd('\n')}' to", path, CgroupIOException.EINVAL);
        }
        int errno = CgroupFileCalls.WriteFile(directory, relative.Span, bytes);
        if (errno != 0)
        {
            throw new CgroupIOException($"write '{text.TrimEnd('\n')}' to", path, errno);
        }
    }

    public void CreateDirectory(string path)
    {
        (SafeFileHandle? directory, ReadOnlyMemory<char> relative) = Resolve(path);
        int errno = CgroupFileCalls.MakeDirectory(directory, relative.Span);
        if (errno != 0)
        {
            throw new CgroupIOException("create", path, errno);
        }
    }

    public void RemoveDirectory(string path)
    {
        // One rmdir(2). A cgroup's control files are not in the way; its processes and children are. Files kept open
        // beneath it are closed first (after the rmdir they would only answer ENODEV).
        if (!_kept.IsEmpty)
        {
            string beneath = path.EndsWith('/') ? path : path + "/";
            foreach (var (file, handle) in _kept)
                if (file.StartsWith(beneath, StringComparison.Ordinal) && _kept.TryRemove(file, out _))
                    handle.Dispose();
        }
        (SafeFileHandle? directory, ReadOnlyMemory<char> relative) = Resolve(path);
        int errno = CgroupFileCalls.RemoveDirectory(directory, relative.Span);
        if (errno != 0)
        {
            throw new CgroupIOException("remove", path, errno);
        }
    }

    public bool Exists(string path)
    {
        (SafeFileHandle? directory, ReadOnlyMemory<char> relative) = Resolve(path);
        return CgroupFileCalls.Exists(directory, relative.Span) == 0;
    }

    public SafeFileHandle OpenDirectory(string path)
    {
        (SafeFileHandle? directory, ReadOnlyMemory<char> relative) = Resolve(path);
        int errno = CgroupFileCalls.OpenDirectory(directory, relative.Span, out SafeFileHandle? opened);
        return errno == 0 ? opened! : throw new CgroupIOException("open", path, errno);
    }

    public SafeFileHandle OpenForWriting(string path)
    {
        (SafeFileHandle? directory, ReadOnlyMemory<char> relative) = Resolve(path);
        int errno = CgroupFileCalls.OpenForWriting(directory, relative.Span, out SafeFileHandle? opened);
        return errno == 0 ? opened! : throw new CgroupIOException("open for writing", path, errno);
    }

    public IReadOnlyList<string> ListDirectories(string path)
    {
        try
        {
            return Directory.Exists(path)
                ? [.. Directory.EnumerateDirectories(path).Select(d => Path.GetFileName(d))]
                : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Translate("list", path, e);
        }
    }

    public bool CanWrite(string path)
    {
        if (!Directory.Exists(path))
        {
            return CanOpenForWriting(path);
        }
        // System.IO does not expose a directory's owner, and mkdir cannot be tried without creating something. A cgroup
        // directory is delegated together with its cgroup.procs (systemd and the kernel's delegation model chown both),
        // so: the kernel must let us open cgroup.procs for writing, and the directory must be writable by its owner or
        // by everyone (or we are root, whose CAP_DAC_OVERRIDE the cgroup.procs check already confirmed).
        string procs = Path.Combine(path, "cgroup.procs");
        if (!File.Exists(procs) || !CanOpenForWriting(procs))
        {
            return false;
        }
        UnixFileMode mode = File.GetUnixFileMode(path);
        return EffectiveUserId() == 0 || (mode & (UnixFileMode.UserWrite | UnixFileMode.OtherWrite)) != 0;
    }

    public string? TryReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public string ReadMountInfo() => ReadText("/proc/self/mountinfo");

    public string ReadProcSelfCgroup() => ReadText("/proc/self/cgroup");

    /// <summary>The anchor <paramref name="path"/> lies beneath and the rest of it, or null (the current directory) and the path.</summary>
    private (SafeFileHandle? Directory, ReadOnlyMemory<char> Relative) Resolve(string path)
    {
        foreach (Anchor anchor in Volatile.Read(ref _anchors))
        {
            if (path.Length > anchor.Prefix.Length && path.StartsWith(anchor.Prefix, StringComparison.Ordinal))
            {
                return (anchor.Handle, path.AsMemory(anchor.Prefix.Length));
            }
        }
        return (null, path.AsMemory());
    }

    private static bool CanOpenForWriting(string path)
    {
        try
        {
            using var stream = new FileStream(path, WriteOptions);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private uint EffectiveUserId()
    {
        // "Uid:\treal\teffective\tsaved\tfs" in /proc/self/status.
        foreach (string line in ReadText("/proc/self/status").Split('\n'))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                string[] ids = line[4..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (ids.Length >= 2 && uint.TryParse(ids[1], System.Globalization.CultureInfo.InvariantCulture, out uint euid))
                {
                    return euid;
                }
            }
        }
        return uint.MaxValue;
    }

    private static CgroupIOException Translate(string operation, string path, Exception e) => new(operation, path, e switch
    {
        FileNotFoundException or DirectoryNotFoundException => CgroupIOException.ENOENT,
        UnauthorizedAccessException => CgroupIOException.EACCES,
        PathTooLongException => 36,
        // On Unix, .NET puts the raw errno in HResult for every errno it has no dedicated exception for.
        IOException io when io.HResult is > 0 and < 4096 => io.HResult,
        _ => CgroupIOException.EIO,
    }, e);
}
