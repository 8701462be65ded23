using System.Globalization;

namespace Sandbox.IntegrationTests.Support;

/// <summary>
/// What the tests of the v2 driver on a real cgroup2 hierarchy need from this kernel, probed without changing anything:
/// a cgroup2 mount (/proc/self/mountinfo), cgroup.kill (Linux 5.14) and clone3's CLONE_INTO_CGROUP (Linux 5.7).
/// Each answer is null when the feature is there, or says what is missing.
/// </summary>
internal static class UnifiedCgroupProbe
{
    /// <summary>Where cgroup2 is mounted (the unified hierarchy of a hybrid host, or /sys/fs/cgroup), or null.</summary>
    public static string? MountPoint { get; } = FindMount();

    /// <summary>The kernel's release as (major, minor), from /proc/sys/kernel/osrelease.</summary>
    public static (int Major, int Minor) Kernel { get; } = ReadKernel();

    /// <summary>Why the v2 tests cannot run at all, or null.</summary>
    public static string? MissingHierarchy => MountPoint is null
        ? "no cgroup2 hierarchy is mounted: /proc/self/mountinfo lists no cgroup2 file system"
        : null;

    /// <summary>Why a test of clone3(CLONE_INTO_CGROUP) cannot run, or null.</summary>
    public static string? MissingCloneIntoCgroup => MissingHierarchy
        ?? (Kernel.CompareTo((5, 7)) < 0 ? $"clone3's CLONE_INTO_CGROUP needs Linux 5.7; this kernel is {Kernel.Major}.{Kernel.Minor}" : null);

    /// <summary>Why a test of cgroup.kill cannot run, or null.</summary>
    public static string? MissingKill => MissingHierarchy
        ?? (Kernel.CompareTo((5, 14)) < 0 ? $"cgroup.kill needs Linux 5.14; this kernel is {Kernel.Major}.{Kernel.Minor}" : null);

    private static string? FindMount()
    {
        foreach (string line in File.ReadAllLines("/proc/self/mountinfo"))
        {
            // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER": the type follows " - ".
            int dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (dash < 0 || !line[(dash + 3)..].StartsWith("cgroup2 ", StringComparison.Ordinal))
                continue;
            string[] fields = line[..dash].Split(' ');
            if (fields.Length > 4 && fields[3] == "/")
                return fields[4];
        }
        return null;
    }

    private static (int, int) ReadKernel()
    {
        string[] parts = File.ReadAllText("/proc/sys/kernel/osrelease").Trim().Split('.', '-');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }
}
