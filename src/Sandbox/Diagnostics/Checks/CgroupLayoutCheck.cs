namespace Sandbox.Diagnostics.Checks;

/// <summary>How cgroups are mounted (v2 unified, v1, hybrid) and which controllers each hierarchy offers.</summary>
internal static class CgroupLayoutCheck
{
    public static HostCheck Run(HostFacts facts)
    {
        var log = new EvidenceLog(facts.Files);
        if (facts.MountInfo is null)
        {
            log.Add(HostMount.MountInfoPath, EvidenceLog.Absent);
            return log.NotOk(HostCheckNames.Cgroups, HostCheckStatus.Unknown, $"{HostMount.MountInfoPath} could not be read.",
                "Mount /proc (the sandbox needs it too): mount -t proc proc /proc.");
        }
        var cgroups = facts.Cgroups;
        if (cgroups.Unified is { } u)
            log.Add(HostMount.MountInfoPath, $"cgroup2 at {u.MountPoint} ({u.MountOptions})");
        foreach (var h in cgroups.V1)
            log.Add(HostMount.MountInfoPath, $"cgroup {h.Label} at {h.Mount.MountPoint} ({h.Mount.MountOptions})");
        string v1 = string.Join(", ", cgroups.V1WithControllers.SelectMany(h => h.Controllers).Order(StringComparer.Ordinal));
        string named = string.Join(", ", cgroups.V1.Where(h => h.Controllers.Length == 0).Select(h => h.Label));
        string namedNote = named.Length == 0 ? "" : $"; named v1 hierarchies: {named}";

        switch (cgroups.Layout)
        {
            case HostCgroupLayout.V2:
            {
                var unified = cgroups.Unified!;
                string? controllers = log.Read($"{unified.MountPoint}/cgroup.controllers");
                string at = $"cgroup v2 (unified) at {unified.MountPoint}{(unified.IsReadOnly ? ", read-only" : "")}";
                if (string.IsNullOrWhiteSpace(controllers))
                    return log.NotOk(HostCheckNames.Cgroups, HostCheckStatus.Warning,
                        $"{at}, but its cgroup.controllers lists no controller{namedNote}.",
                        $"Enable controllers for this cgroup in its parent's cgroup.subtree_control (echo '+cpu +memory +pids' > PARENT/cgroup.subtree_control), or start the container with them delegated.");
                return log.Ok(HostCheckNames.Cgroups, $"{at}; controllers: {controllers}{namedNote}.");
            }
            case HostCgroupLayout.Hybrid:
            {
                var unified = cgroups.Unified!;
                string? controllers = log.Read($"{unified.MountPoint}/cgroup.controllers");
                return log.Ok(HostCheckNames.Cgroups,
                    $"Hybrid: v1 controllers {v1} under {CommonParent(cgroups)}; cgroup2 at {unified.MountPoint} with controllers: {(string.IsNullOrWhiteSpace(controllers) ? "(none)" : controllers)}{namedNote}.");
            }
            case HostCgroupLayout.V1:
                return log.Ok(HostCheckNames.Cgroups, $"cgroup v1: controllers {v1} under {CommonParent(cgroups)}{namedNote}.");
            default:
                return log.NotOk(HostCheckNames.Cgroups, HostCheckStatus.Missing,
                    $"No cgroup hierarchy with controllers is mounted ({HostMount.MountInfoPath}){namedNote}.",
                    "Mount cgroup v2: mount -t cgroup2 none /sys/fs/cgroup (a systemd distribution does this at boot).");
        }
    }

    // "/sys/fs/cgroup/*" when every v1 controller hierarchy is mounted there, else the list of mount points.
    private static string CommonParent(HostCgroups cgroups)
    {
        var points = cgroups.V1WithControllers.Select(h => h.Mount.MountPoint).ToList();
        return points.All(p => Path.GetDirectoryName(p) == HostCgroups.DefaultRoot)
            ? $"{HostCgroups.DefaultRoot}/*"
            : string.Join(", ", points);
    }
}
