using System.Collections.Concurrent;
using System.Diagnostics;
using Sandbox.Cgroups;

namespace Sandbox.Benchmarks.Cgroups;

/// <summary>
/// The real cgroup file system, with every call counted and timed by what it did and to which file
/// (e.g. "write memory.limit_in_bytes", "mkdir", "list"), for the cgroup-cost breakdown.
/// </summary>
internal sealed class TimingCgroupFileSystem(ICgroupFileSystem inner) : ICgroupFileSystem
{
    private readonly ConcurrentDictionary<string, (long Count, long Ticks)> _ops = new(StringComparer.Ordinal);

    /// <summary>Every operation so far: how often and how long in total (Stopwatch ticks).</summary>
    public IReadOnlyDictionary<string, (long Count, long Ticks)> Operations => _ops;

    public void Reset() => _ops.Clear();

    public string ReadText(string path) => Time("read " + FileOf(path), () => inner.ReadText(path));

    public string? TryReadText(string path) => Time("read " + FileOf(path), () => inner.TryReadText(path));

    public void WriteText(string path, string text) => Time("write " + FileOf(path), () => inner.WriteText(path, text));

    public void CreateDirectory(string path) => Time("mkdir", () => inner.CreateDirectory(path));

    public void RemoveDirectory(string path) => Time("rmdir", () => inner.RemoveDirectory(path));

    public bool Exists(string path) => Time("exists " + FileOf(path), () => inner.Exists(path));

    public IReadOnlyList<string> ListDirectories(string path) => Time("list directories", () => inner.ListDirectories(path));

    public bool CanWrite(string path) => Time("can-write", () => inner.CanWrite(path));

    public string? TryReadLink(string path) => Time("readlink", () => inner.TryReadLink(path));

    public void AnchorDirectory(string directory) => Time("anchor", () => inner.AnchorDirectory(directory));

    public Microsoft.Win32.SafeHandles.SafeFileHandle OpenDirectory(string path) => Time("open (clone3)", () => inner.OpenDirectory(path));

    public Microsoft.Win32.SafeHandles.SafeFileHandle OpenForWriting(string path) => Time("open for writing", () => inner.OpenForWriting(path));

    public void KeepOpen(IReadOnlyList<string> files) => Time("keep open", () => { inner.KeepOpen(files); return 0; });

    public string ReadMountInfo() => Time("read mountinfo", inner.ReadMountInfo);

    public string ReadProcSelfCgroup() => Time("read /proc/self/cgroup", inner.ReadProcSelfCgroup);

    /// <summary>A cgroup directory is "(dir)"; a control file is its name.</summary>
    private static string FileOf(string path)
    {
        string name = Path.GetFileName(path);
        return name.StartsWith(SandboxCgroupName.Prefix, StringComparison.Ordinal) ? "(cgroup dir)" : name;
    }

    private T Time<T>(string op, Func<T> call)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            return call();
        }
        finally
        {
            long ticks = Stopwatch.GetTimestamp() - start;
            _ops.AddOrUpdate(op, (1, ticks), (_, v) => (v.Count + 1, v.Ticks + ticks));
        }
    }

    private void Time(string op, Action call) => Time(op, () =>
    {
        call();
        return 0;
    });
}
