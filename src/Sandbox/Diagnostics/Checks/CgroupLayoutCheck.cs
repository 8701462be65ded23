using Sandbox.Cgroups;
using Sandbox.Cgroups.V1;
using Sandbox.Cgroups.V2;

namespace Sandbox.Diagnostics.Checks;

/// <summary>
/// How cgroups are mounted (v2 unified, v1, hybrid) and which controllers sandbox cgroups can have, as the cgroup
/// drivers' own detection (<see cref="CgroupLayoutDetector"/>) sees them: the ones every limited sandbox needs, and the
/// optional ones for CPU sets and I/O limits.
/// </summary>
internal static class CgroupLayoutCheck
{
    /// <summary>The v2 controllers only some limits need: cpuset for a CPU set, io for I/O limits.</summary>
    private static readonly string[] OptionalV2 = [V2CpusetController.Name, V2IoController.Name];

    /// <summary>The v1 controllers only some limits need: cpuset for a CPU set, blkio for I/O limits.</summary>
    private static readonly string[] OptionalV1 = [V1CpusetController.Name, V1BlkioController.Name];

    public static HostCheck Run(HostFacts facts)
    {
        var log = new EvidenceLog(facts.Files);
        if (facts.MountInfo is null)
        {
            log.Add(HostFacts.MountInfoPath, EvidenceLog.Absent);
            return log.NotOk(HostCheckNames.Cgroups, HostCheckStatus.Unknown, $"{HostFacts.MountInfoPath} could not be read.",
                "Mount /proc (the sandbox needs it too): mount -t proc proc /proc.");
        }
        var layout = facts.Cgroups;
        if (layout.Unified is { } u)
            log.Add(HostFacts.MountInfoPath, $"cgroup2 at {u.MountPoint} (showing {u.MountRoot})");
        foreach (var h in layout.V1Hierarchies)
            log.Add(HostFacts.MountInfoPath, $"cgroup {string.Join(',', h.Controllers)} at {h.MountPoint} (showing {h.MountRoot})");

        switch (layout.Kind)
        {
            case CgroupLayoutKind.Unified:
            {
                var v2 = layout.Unified!;
                log.Add($"{v2.ParentDirectory ?? v2.ParentCgroup}/cgroup.controllers (or the nearest existing ancestor's)", Words(v2.AvailableControllers));
                string[] missing = [.. CgroupOptions.DefaultV2Controllers.Where(c => !v2.AvailableControllers.Contains(c))];
                string at = $"cgroup v2 (unified) at {v2.MountPoint}";
                string controllers = $"controllers available to sandbox cgroups under {v2.ParentDirectory ?? v2.ParentCgroup}: {Words(v2.AvailableControllers)}";
                string optional = Optional(OptionalV2, v2.AvailableControllers.Contains, "cpuset", "io");
                if (missing.Length > 0)
                    return log.NotOk(HostCheckNames.Cgroups, HostCheckStatus.Warning,
                        $"{at}; {controllers}; missing: {string.Join(' ', missing)} (memory, process and CPU limits need cpu, memory and pids){optional}.",
                        FixFor(layout, missing) ?? $"Enable {string.Join(' ', missing)} in the parent's cgroup.subtree_control (echo '+cpu +memory +pids' > PARENT/cgroup.subtree_control), or have them delegated.");
                return log.Ok(HostCheckNames.Cgroups, $"{at}; {controllers}{optional}.");
            }
            case CgroupLayoutKind.Legacy or CgroupLayoutKind.Hybrid:
            {
                var mounted = layout.V1Hierarchies.SelectMany(h => h.Controllers).ToHashSet(StringComparer.Ordinal);
                string v1 = $"v1 controllers {string.Join(", ", mounted.Order(StringComparer.Ordinal))} under {MountPoints(layout)}";
                string hybrid = layout.Unified is { } unified
                    ? $"; cgroup2 at {unified.MountPoint} with controllers: {(unified.AvailableControllers.Count == 0 ? "(none)" : Words(unified.AvailableControllers))}, unused: sandboxes use v1"
                    : "";
                string head = layout.Kind == CgroupLayoutKind.Hybrid ? $"Hybrid: {v1}{hybrid}" : $"cgroup v1: {v1}";
                string optional = Optional(OptionalV1, mounted.Contains, "cpuset", "blkio");
                string[] missing = [.. CgroupOptions.DefaultV1Controllers.Where(c => !mounted.Contains(c))];
                if (missing.Length > 0)
                    return log.NotOk(HostCheckNames.Cgroups, HostCheckStatus.Warning,
                        $"{head}; missing: {string.Join(", ", missing)} (limited sandboxes need {string.Join(", ", CgroupOptions.DefaultV1Controllers)}; cpu for CPU quotas){optional}.",
                        FixFor(layout, missing) ?? $"Mount them as root, e.g. mount -t cgroup -o {missing[0]} cgroup /sys/fs/cgroup/{missing[0]}.");
                return log.Ok(HostCheckNames.Cgroups, $"{head}{optional}.");
            }
            default:
                return log.NotOk(HostCheckNames.Cgroups, HostCheckStatus.Missing,
                    $"No cgroup hierarchy with controllers is mounted ({HostFacts.MountInfoPath}).",
                    FixFor(layout, []) ?? "Mount cgroup v2: mount -t cgroup2 cgroup2 /sys/fs/cgroup (a systemd distribution does this at boot).");
        }
    }

    /// <summary>"; CPU sets (cpuset) and I/O limits (io) available" or which of them are not.</summary>
    private static string Optional(string[] controllers, Func<string, bool> has, string cpuset, string io)
    {
        bool hasCpuset = has(controllers[0]), hasIo = has(controllers[1]);
        return (hasCpuset, hasIo) switch
        {
            (true, true) => $"; CPU sets ({cpuset}) and I/O limits ({io}) available",
            (true, false) => $"; CPU sets ({cpuset}) available, I/O limits not ({io} missing)",
            (false, true) => $"; I/O limits ({io}) available, CPU sets not ({cpuset} missing)",
            _ => $"; neither CPU sets nor I/O limits ({cpuset}, {io} missing)",
        };
    }

    /// <summary>The detector's fix for a blocking problem naming one of <paramref name="missing"/> (or any, when none are named).</summary>
    private static string? FixFor(CgroupLayout layout, string[] missing) =>
        layout.Problems
            .Where(p => p.Severity == CgroupProblemSeverity.Blocking && p.Fix is not null
                && (missing.Length == 0 || missing.Any(m => p.What.Contains($"'{m}'", StringComparison.Ordinal) || p.What.Contains(m, StringComparison.Ordinal))))
            .Select(p => p.Fix)
            .FirstOrDefault();

    // "/sys/fs/cgroup/*" when every v1 hierarchy is mounted there, else the list of mount points.
    private static string MountPoints(CgroupLayout layout)
    {
        var points = layout.V1Hierarchies.Select(h => h.MountPoint).ToList();
        return points.All(p => Path.GetDirectoryName(p) == "/sys/fs/cgroup") ? "/sys/fs/cgroup/*" : string.Join(", ", points);
    }

    private static string Words(IEnumerable<string> words) =>
        words.Any() ? string.Join(' ', words.Order(StringComparer.Ordinal)) : "(none)";
}
