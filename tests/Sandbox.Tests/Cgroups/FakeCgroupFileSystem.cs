using Microsoft.Win32.SafeHandles;
using Sandbox.Cgroups;

namespace Sandbox.Tests.Cgroups;

/// <summary>
/// An in-memory <see cref="ICgroupFileSystem"/>: directories, files, a log of every change, error injection, and hooks
/// that <see cref="FakeCgroupV2Host"/> and <see cref="FakeCgroupV1Host"/> use to act like the kernel's cgroupfs.
/// </summary>
internal sealed class FakeCgroupFileSystem : ICgroupFileSystem
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal) { "/" };

    /// <summary>A host with no cgroup file system mounted: sandboxes get no cgroup of their own, and nothing is touched.</summary>
    public static FakeCgroupFileSystem WithoutCgroups() => new() { MountInfo = CgroupSamples.NoCgroupMountInfo };

    /// <summary>Every mkdir, rmdir and write, in order: "mkdir PATH", "rmdir PATH", "write PATH TEXT".</summary>
    public List<string> Log { get; } = [];

    /// <summary>The directories <see cref="AnchorDirectory"/> was called with, in order.</summary>
    public List<string> Anchored { get; } = [];

    /// <summary>What <see cref="ReadMountInfo"/> returns.</summary>
    public string MountInfo { get; set; } = "";

    /// <summary>What <see cref="ReadProcSelfCgroup"/> returns.</summary>
    public string ProcSelfCgroup { get; set; } = "";

    /// <summary>Symbolic links (e.g. /proc/self/ns/pid).</summary>
    public Dictionary<string, string> Links { get; } = new(StringComparer.Ordinal);

    /// <summary>Paths the current user may not write (writes fail with EACCES, <see cref="CanWrite"/> says false).</summary>
    public HashSet<string> NotWritable { get; } = new(StringComparer.Ordinal);

    /// <summary>Writes to these paths fail with the errno (every time).</summary>
    public Dictionary<string, int> FailingWrites { get; } = new(StringComparer.Ordinal);

    /// <summary>Acts on a write like the kernel would; returns true if it stored the result itself.</summary>
    public Func<string, string, bool>? WriteHook { get; set; }

    /// <summary>Called after a directory is created (to fill in the control files).</summary>
    public Action<string>? CreateHook { get; set; }

    /// <summary>Returns an errno to refuse an rmdir (e.g. EBUSY while populated), or null.</summary>
    public Func<string, int?>? RemoveCheck { get; set; }

    /// <summary>Called before every read (to let state advance while a driver polls).</summary>
    public Action<string>? ReadHook { get; set; }

    public void AddDirectory(string path)
    {
        lock (_gate)
        {
            for (string? p = path; p is not null && p.Length > 0; p = Parent(p))
            {
                _directories.Add(p);
            }
        }
    }

    public void SetFile(string path, string text)
    {
        lock (_gate)
        {
            AddDirectory(Parent(path)!);
            _files[path] = text;
        }
    }

    public void DeleteFile(string path)
    {
        lock (_gate)
        {
            _files.Remove(path);
        }
    }

    public bool IsDirectory(string path)
    {
        lock (_gate)
        {
            return _directories.Contains(path);
        }
    }

    /// <summary>The file's text, without going through hooks.</summary>
    public string? Peek(string path)
    {
        lock (_gate)
        {
            return _files.GetValueOrDefault(path);
        }
    }

    public IReadOnlyList<string> AllDirectories()
    {
        lock (_gate)
        {
            return [.. _directories.Order(StringComparer.Ordinal)];
        }
    }

    public string ReadText(string path) =>
        TryReadText(path) ?? throw new CgroupIOException("read", path, CgroupIOException.ENOENT);

    public string? TryReadText(string path)
    {
        ReadHook?.Invoke(path);
        lock (_gate)
        {
            return _files.GetValueOrDefault(path);
        }
    }

    public void WriteText(string path, string text)
    {
        lock (_gate)
        {
            if (!_files.ContainsKey(path))
            {
                throw new CgroupIOException("write", path, CgroupIOException.ENOENT);
            }
            if (NotWritable.Contains(path))
            {
                throw new CgroupIOException("write", path, CgroupIOException.EACCES);
            }
            if (FailingWrites.TryGetValue(path, out int errno))
            {
                throw new CgroupIOException("write", path, errno);
            }
            Log.Add($"write {path} {text}");
        }
        if (WriteHook?.Invoke(path, text) != true)
        {
            lock (_gate)
            {
                _files[path] = text;
            }
        }
    }

    public void CreateDirectory(string path)
    {
        lock (_gate)
        {
            if (_directories.Contains(path) || _files.ContainsKey(path))
            {
                throw new CgroupIOException("create", path, CgroupIOException.EEXIST);
            }
            string parent = Parent(path)!;
            if (!_directories.Contains(parent))
            {
                throw new CgroupIOException("create", path, CgroupIOException.ENOENT);
            }
            if (NotWritable.Contains(parent))
            {
                throw new CgroupIOException("create", path, CgroupIOException.EACCES);
            }
            _directories.Add(path);
            Log.Add($"mkdir {path}");
        }
        CreateHook?.Invoke(path);
    }

    public void RemoveDirectory(string path)
    {
        lock (_gate)
        {
            if (!_directories.Contains(path))
            {
                throw new CgroupIOException("remove", path, CgroupIOException.ENOENT);
            }
            if (_directories.Any(d => Parent(d) == path))
            {
                throw new CgroupIOException("remove", path, CgroupIOException.EBUSY);
            }
        }
        if (RemoveCheck?.Invoke(path) is { } errno)
        {
            throw new CgroupIOException("remove", path, errno);
        }
        lock (_gate)
        {
            _directories.Remove(path);
            foreach (string file in _files.Keys.Where(f => Parent(f) == path).ToArray())
            {
                _files.Remove(file);
            }
            Log.Add($"rmdir {path}");
        }
    }

    public bool Exists(string path)
    {
        lock (_gate)
        {
            return _directories.Contains(path) || _files.ContainsKey(path);
        }
    }

    public IReadOnlyList<string> ListDirectories(string path)
    {
        lock (_gate)
        {
            return [.. _directories.Where(d => d != "/" && Parent(d) == path).Select(d => d[(d.LastIndexOf('/') + 1)..]).Order(StringComparer.Ordinal)];
        }
    }

    public void AnchorDirectory(string directory)
    {
        lock (_gate)
        {
            if (!_directories.Contains(directory))
            {
                throw new CgroupIOException("open", directory, CgroupIOException.ENOENT);
            }
            Anchored.Add(directory);
        }
    }

    /// <summary>The directories <see cref="OpenDirectory"/> opened, with the stand-in handle each got, in order.</summary>
    public List<(string Path, SafeFileHandle Handle)> Opened { get; } = [];

    private int _nextFd = 700;

    /// <summary>A stand-in handle (never a real fd: closing it closes nothing) for an existing directory.</summary>
    /// <summary>The files <see cref="KeepOpen"/> was asked to keep open, in order (reads of them still come from memory).</summary>
    public List<string> KeptOpen { get; } = [];

    public void KeepOpen(IReadOnlyList<string> files)
    {
        lock (_gate)
            KeptOpen.AddRange(files);
    }

    /// <summary>A stand-in handle (never a real fd) for an existing file; recorded in <see cref="Opened"/>.</summary>
    public SafeFileHandle OpenForWriting(string path)
    {
        lock (_gate)
        {
            if (!_files.ContainsKey(path))
            {
                throw new CgroupIOException("open for writing", path, _directories.Contains(path) ? CgroupIOException.EISDIR : CgroupIOException.ENOENT);
            }
            var handle = new SafeFileHandle(_nextFd++, ownsHandle: false);
            Opened.Add((path, handle));
            return handle;
        }
    }

    public SafeFileHandle OpenDirectory(string path)
    {
        lock (_gate)
        {
            if (!_directories.Contains(path))
            {
                throw new CgroupIOException("open", path, _files.ContainsKey(path) ? CgroupIOException.ENOTDIR : CgroupIOException.ENOENT);
            }
            var handle = new SafeFileHandle(_nextFd++, ownsHandle: false);
            Opened.Add((path, handle));
            return handle;
        }
    }

    public bool CanWrite(string path) => Exists(path) && !NotWritable.Contains(path);

    public string? TryReadLink(string path) => Links.GetValueOrDefault(path);

    public string ReadMountInfo() => MountInfo;

    public string ReadProcSelfCgroup() => ProcSelfCgroup;

    public static string? Parent(string path)
    {
        if (path == "/")
        {
            return null;
        }
        int slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }
}
