using System.Collections.Immutable;

namespace Sandbox.Diagnostics;

/// <summary>The host's cgroup hierarchies, found in /proc/self/mountinfo: the layout, the cgroup2 mount, the v1 mounts.</summary>
/// <param name="Layout">v2, v1, hybrid or none.</param>
/// <param name="Unified">The cgroup2 mount, if any (at /sys/fs/cgroup for v2, usually /sys/fs/cgroup/unified for hybrid).</param>
/// <param name="V1">The v1 hierarchies, one per distinct controller set, named ones (<c>name=systemd</c>) included.</param>
internal sealed record HostCgroups(HostCgroupLayout Layout, HostMount? Unified, ImmutableArray<CgroupV1Hierarchy> V1)
{
    public const string DefaultRoot = "/sys/fs/cgroup";

    /// <summary>The v1 hierarchies that hold controllers (not the named ones).</summary>
    public IEnumerable<CgroupV1Hierarchy> V1WithControllers => V1.Where(h => h.Controllers.Length > 0);

    /// <summary>Reads the layout from the mounts; where a hierarchy is mounted twice, the mount under /sys/fs/cgroup wins.</summary>
    public static HostCgroups Detect(IEnumerable<HostMount> mounts)
    {
        var all = mounts.ToList();
        var unified = all.Where(m => m.FileSystemType == "cgroup2")
            .OrderBy(m => m.MountPoint == DefaultRoot ? 0 : m.MountPoint.StartsWith(DefaultRoot + "/", StringComparison.Ordinal) ? 1 : 2)
            .FirstOrDefault();
        var v1 = all.Where(m => m.FileSystemType == "cgroup")
            .Select(CgroupV1Hierarchy.FromMount)
            .OrderBy(h => h.Mount.MountPoint.StartsWith(DefaultRoot + "/", StringComparison.Ordinal) ? 0 : 1)
            .DistinctBy(h => h.Label)
            .OrderBy(h => h.Label, StringComparer.Ordinal)
            .ToImmutableArray();
        bool v1Controllers = v1.Any(h => h.Controllers.Length > 0);
        var layout = (unified is not null, v1Controllers) switch
        {
            (true, true) => HostCgroupLayout.Hybrid,
            (true, false) => HostCgroupLayout.V2,
            (false, true) => HostCgroupLayout.V1,
            _ => HostCgroupLayout.None,
        };
        return new HostCgroups(layout, unified, v1);
    }

    /// <summary>
    /// Where the cgroup <paramref name="cgroupPath"/> (as /proc/self/cgroup names it) is on <paramref name="mount"/>; null if
    /// the mount does not show it (it lies outside the mount's root, e.g. outside this cgroup namespace).
    /// </summary>
    public static string? DirectoryOf(HostMount mount, string cgroupPath)
    {
        string root = mount.Root.TrimEnd('/');
        if (root.Length > 0 && cgroupPath != root && !cgroupPath.StartsWith(root + "/", StringComparison.Ordinal))
            return null;
        string relative = cgroupPath[root.Length..].Trim('/');
        if (relative.Split('/').Contains("..", StringComparer.Ordinal))
            return null;
        return relative.Length == 0 ? mount.MountPoint : $"{mount.MountPoint.TrimEnd('/')}/{relative}";
    }
}
