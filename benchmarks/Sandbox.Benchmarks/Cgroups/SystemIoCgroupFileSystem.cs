using System.Text;

using Sandbox.Cgroups;

namespace Sandbox.Benchmarks.Cgroups;

/// <summary>
/// The cgroup file system seam as it was before the cgroup-cost work (commit a64434b): System.IO for every call
/// (FileStream per write, File.ReadAllText per read, existence checks around mkdir), absolute paths. Kept only so the
/// cgroup-cost mode can measure the old path next to the new one in the same run.
/// </summary>
internal sealed class SystemIoCgroupFileSystem : ICgroupFileSystem
{
    /// <summary>The shared instance.</summary>
    public static SystemIoCgroupFileSystem Instance { get; } = new();

    private static readonly FileStreamOptions WriteOptions = new()
    {
        Mode = FileMode.Open,
        Access = FileAccess.Write,
        Share = FileShare.ReadWrite,
        BufferSize = 0,
    };

    public string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Translate("read", path, e);
        }
    }

    public string? TryReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Translate("read", path, e);
        }
    }

    public void WriteText(string path, string text)
    {
        try
        {
            using var stream = new FileStream(path, WriteOptions);
            stream.Write(Encoding.ASCII.GetBytes(text));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Translate($"write '{text.TrimEnd('\n')}' to", path, e);
        }
    }

    public void CreateDirectory(string path)
    {
        // Directory.CreateDirectory also creates missing parents and accepts an existing directory; mkdir does neither.
        if (Directory.Exists(path) || File.Exists(path))
        {
            throw new CgroupIOException("create", path, CgroupIOException.EEXIST);
        }
        string? parent = Path.GetDirectoryName(path);
        if (parent is null || !Directory.Exists(parent))
        {
            throw new CgroupIOException("create", path, CgroupIOException.ENOENT);
        }
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Translate("create", path, e);
        }
    }

    public void RemoveDirectory(string path)
    {
        try
        {
            // Non-recursive: one rmdir(2). A cgroup's control files are not in the way; its processes and children are.
            Directory.Delete(path, recursive: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Translate("remove", path, e);
        }
    }

    public bool Exists(string path) => Path.Exists(path);

    /// <summary>System.IO has no O_PATH open: the real file system's one call.</summary>
    public Microsoft.Win32.SafeHandles.SafeFileHandle OpenDirectory(string path) => CgroupFileSystem.Instance.OpenDirectory(path);

    /// <summary>The real file system's call (the seam as it was before never opened a file ahead of its write).</summary>
    public Microsoft.Win32.SafeHandles.SafeFileHandle OpenForWriting(string path) => CgroupFileSystem.Instance.OpenForWriting(path);

    public void KeepOpen(IReadOnlyList<string> files)
    {
        // The seam as it was before: every read opens its file.
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

    /// <summary>The old seam had no open directories: every path was walked from /.</summary>
    public void AnchorDirectory(string directory)
    {
    }

    public string ReadMountInfo() => ReadText("/proc/self/mountinfo");

    public string ReadProcSelfCgroup() => ReadText("/proc/self/cgroup");

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
