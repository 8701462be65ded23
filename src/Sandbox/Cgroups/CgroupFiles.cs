using System.Globalization;

namespace Sandbox.Cgroups;

/// <summary>Reads and writes cgroup control files through the seam, turning kernel errors into <see cref="CgroupException"/>.</summary>
internal static class CgroupFiles
{
    /// <summary>Writes one value; a refusal becomes a <see cref="CgroupException"/> saying what was being set and how to fix it.</summary>
    public static void Write(ICgroupFileSystem fileSystem, string path, string value, string what)
    {
        try
        {
            fileSystem.WriteText(path, value);
        }
        catch (CgroupIOException e)
        {
            throw new CgroupException($"{what} (writing '{value}')", path, e.Errno, FixFor(e.Errno), e);
        }
    }

    /// <summary>The text of a control file, or null if this kernel (or this cgroup's controllers) does not have it.</summary>
    public static string? TryRead(ICgroupFileSystem fileSystem, string path)
    {
        try
        {
            return fileSystem.TryReadText(path);
        }
        catch (CgroupIOException e) when (e.Errno is CgroupIOException.ENOENT or CgroupIOException.ENOTDIR)
        {
            return null;
        }
    }

    /// <summary>Parses a whole-number file (memory.peak, pids.peak, cpuacct.usage), or null if it is missing.</summary>
    public static long? TryReadNumber(ICgroupFileSystem fileSystem, string path) =>
        TryRead(fileSystem, path) is { } text
            && long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            ? value
            : null;

    /// <summary>The pids in a cgroup.procs (or tasks) file; empty if the cgroup is gone.</summary>
    public static IReadOnlyList<int> ReadPids(ICgroupFileSystem fileSystem, string procsPath)
    {
        string text = TryRead(fileSystem, procsPath) ?? "";
        var pids = new List<int>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                pids.Add(pid);
            }
        }
        return pids;
    }

    /// <summary>The pids in a cgroup and all its descendants (a payload may have made child cgroups).</summary>
    public static IReadOnlyList<int> ReadPidsRecursive(ICgroupFileSystem fileSystem, string directory)
    {
        var pids = new List<int>(ReadPids(fileSystem, directory + "/cgroup.procs"));
        foreach (string child in fileSystem.ListDirectories(directory))
        {
            pids.AddRange(ReadPidsRecursive(fileSystem, CgroupPaths.Join(directory, child)));
        }
        return pids;
    }

    /// <summary>
    /// Turns swap off for a sandbox cgroup by writing <paramref name="value"/> to <paramref name="path"/> (v1
    /// memory.memsw.limit_in_bytes, v2 memory.swap.max), written without looking first: the file is missing only
    /// without swap accounting, which the write's ENOENT says. That is fine when the host has no swap (the result says
    /// so); otherwise an error with <paramref name="noAccountingFix"/>.
    /// </summary>
    public static void TurnSwapOff(ICgroupFileSystem fileSystem, string path, string value, string enforcedAs,
        string noAccountingFix, ICollection<CgroupEnforcedLimit> enforced)
    {
        try
        {
            fileSystem.WriteText(path, value);
            enforced.Add(new CgroupEnforcedLimit("swap", enforcedAs));
            return;
        }
        catch (CgroupIOException e) when (e.Errno != CgroupIOException.ENOENT)
        {
            throw new CgroupException($"turn swap off (writing '{value}')", path, e.Errno, FixFor(e.Errno), e);
        }
        catch (CgroupIOException)
        {
            // No swap accounting: fine only if the host has no swap.
        }
        if (!HostHasSwap(fileSystem))
            enforced.Add(new CgroupEnforcedLimit("swap", "none: the host has no swap (/proc/swaps is empty)"));
        else
            throw new CgroupException("turn swap off", path, CgroupIOException.ENOENT, noAccountingFix);
    }

    /// <summary>Whether the host has swap configured (/proc/swaps lists a device after its header line).</summary>
    public static bool HostHasSwap(ICgroupFileSystem fileSystem) =>
        (fileSystem.TryReadText("/proc/swaps") ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length > 1;

    /// <summary>Creates <paramref name="directory"/> and any missing ancestors below <paramref name="mountPoint"/>.</summary>
    /// <param name="fileSystem">The seam.</param>
    /// <param name="mountPoint">Where the hierarchy is mounted (never created).</param>
    /// <param name="directory">The cgroup directory to create.</param>
    /// <param name="beforeCreate">Called with each missing directory's parent before it is created.</param>
    /// <param name="afterCreate">Called with each directory created.</param>
    public static void CreateDirectories(
        ICgroupFileSystem fileSystem, string mountPoint, string directory, Action<string>? beforeCreate = null, Action<string>? afterCreate = null)
    {
        if (fileSystem.Exists(directory))
        {
            return;
        }
        string parent = directory[..directory.LastIndexOf('/')];
        if (directory.Length <= mountPoint.Length || parent.Length < mountPoint.Length)
        {
            throw new CgroupException("create the parent cgroup", directory, CgroupIOException.ENOENT, $"Mount the cgroup hierarchy at {mountPoint}.");
        }
        CreateDirectories(fileSystem, mountPoint, parent, beforeCreate, afterCreate);
        beforeCreate?.Invoke(parent);
        try
        {
            fileSystem.CreateDirectory(directory);
        }
        catch (CgroupIOException e) when (e.Errno == CgroupIOException.EEXIST)
        {
            return; // Another host created it first.
        }
        catch (CgroupIOException e)
        {
            throw new CgroupException("create the parent cgroup", directory, e.Errno, FixFor(e.Errno), e);
        }
        afterCreate?.Invoke(directory);
    }

    /// <summary>The usual fix for an errno from a cgroup file.</summary>
    public static string FixFor(int errno) => errno switch
    {
        CgroupIOException.EACCES or CgroupIOException.EPERM =>
            "The cgroup is not writable by this user: run `sandbox doctor` for what is missing (root, or a delegated cgroup v2 subtree).",
        CgroupIOException.ENOENT =>
            "The file is missing: the controller is not enabled for this cgroup, or this kernel lacks the feature.",
        CgroupIOException.EINVAL or 34 =>
            "The kernel refused the value: check it is in the file's range (and for v1 memory, that memory.memsw.limit_in_bytes >= memory.limit_in_bytes).",
        CgroupIOException.EBUSY =>
            "The cgroup is busy: v2 forbids enabling controllers in a cgroup that holds processes, and removing a cgroup that has any.",
        CgroupIOException.ENOSPC =>
            "A v1 cpuset cgroup has no cpus or mems: set cpuset.cpus and cpuset.mems before adding processes.",
        CgroupIOException.ESRCH => "The process is gone.",
        _ => "See the errno; `sandbox doctor` checks the cgroup setup.",
    };
}
