namespace Sandbox.Benchmarks.Images;

/// <summary>A temporary directory (by default under /var/tmp: a disk, as a store would be) removed on dispose.</summary>
internal sealed class BenchScratch : IDisposable
{
    private BenchScratch(string path) => Path = path;

    public string Path { get; }

    public static BenchScratch Create(string prefix, string? parent = null)
    {
        parent ??= Directory.Exists("/var/tmp") ? "/var/tmp" : System.IO.Path.GetTempPath();
        return new BenchScratch(Directory.CreateDirectory(System.IO.Path.Combine(parent, prefix + Guid.NewGuid().ToString("N")[..12])).FullName);
    }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>The file system type of the scratch directory (from /proc/self/mounts: the longest mount point that contains it).</summary>
    public string FileSystem() =>
        File.ReadLines("/proc/self/mounts").Select(l => l.Split(' ')).Where(f => f.Length > 2 && (Path == f[1] || Path.StartsWith(f[1].TrimEnd('/') + "/", StringComparison.Ordinal)))
            .OrderByDescending(f => f[1].Length).Select(f => f[2]).FirstOrDefault() ?? "?";

    public void Dispose() => LayerFixture.Remove(Path);
}
