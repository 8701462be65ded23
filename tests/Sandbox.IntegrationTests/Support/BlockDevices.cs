namespace Sandbox.IntegrationTests.Support;

/// <summary>The host's disks as the kernel names them (MAJ:MIN), found from /proc/self/mountinfo and /sys/dev/block.</summary>
internal static class BlockDevices
{
    /// <summary>
    /// The whole disk holding <paramref name="path"/>: the device of the mount with the longest mount point above it,
    /// or that partition's disk; null if the file system there is not on a block device (tmpfs, overlay).
    /// </summary>
    public static string? DiskHolding(string path)
    {
        string full = Path.GetFullPath(path);
        var mount = File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .Where(f => f.Length > 4 && (full == f[4] || full.StartsWith(f[4].TrimEnd('/') + "/", StringComparison.Ordinal)))
            .OrderByDescending(f => f[4].Length)
            .FirstOrDefault();
        if (mount is null) return null;
        string device = mount[2];
        string sys = $"/sys/dev/block/{device}";
        if (!Directory.Exists(sys)) return null;
        if (!File.Exists(Path.Combine(sys, "partition"))) return device;
        // A partition's sysfs directory sits inside its disk's.
        string? disk = Path.GetDirectoryName(new DirectoryInfo(sys).ResolveLinkTarget(returnFinalTarget: true)?.FullName);
        return disk is null ? null : File.ReadAllText(Path.Combine(disk, "dev")).Trim();
    }
}
