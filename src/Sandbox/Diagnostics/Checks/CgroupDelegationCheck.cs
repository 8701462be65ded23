using Sandbox.Cgroups;

namespace Sandbox.Diagnostics.Checks;

/// <summary>
/// Whether this user can have sandbox cgroups (what memory, process, CPU, CPU-set and I/O limits need), judged by the
/// cgroup drivers' own detection (<see cref="CgroupLayoutDetector"/>): where they would go (the parent in the unified
/// hierarchy, or in each v1 hierarchy), whether that subtree is writable (delegated, for a rootless user on v2), and each
/// problem detection found, with its fix. Judged by permissions and by opening files for writing, never by creating anything.
/// </summary>
internal static class CgroupDelegationCheck
{
    /// <summary>What an unprivileged host can do where it gets no cgroups.</summary>
    public const string RlimitFallback =
        "Or run with --rlimit-fallback (WithRlimitFallback()): memory and CPU time are then enforced as rlimits per process; " +
        "process limits, CPU quotas, CPU sets and I/O limits are not.";

    public static HostCheck Run(HostFacts facts)
    {
        var log = new EvidenceLog(facts.Files);
        if (facts.ProcSelfCgroup is null || facts.Credentials is null)
        {
            log.Add(HostFacts.ProcSelfCgroupPath, facts.ProcSelfCgroup is null ? EvidenceLog.Absent : "read");
            log.Add(ProcStatus.Path, facts.Credentials is null ? "(unreadable or without Uid, Gid, CapEff)" : "read");
            return log.NotOk(HostCheckNames.CgroupDelegation, HostCheckStatus.Unknown,
                $"{HostFacts.ProcSelfCgroupPath} or {ProcStatus.Path} could not be read.",
                "Mount /proc (the sandbox needs it too): mount -t proc proc /proc.");
        }

        var layout = facts.Cgroups;
        log.Add(HostFacts.ProcSelfCgroupPath, facts.ProcSelfCgroup.Trim().ReplaceLineEndings(" "));
        foreach (var evidence in facts.CgroupView.Evidence)
            log.Add(evidence.Source, evidence.Value);
        foreach (var problem in layout.Problems)
            log.Add("cgroup detection", problem.ToString());

        string who = facts.Subject;
        string where = Where(layout);
        var blocking = layout.Problems.Where(p => p.Severity == CgroupProblemSeverity.Blocking).ToList();
        // A warning the driver deals with itself (moving the host's processes into a leaf) has no fix: a note, not a warning.
        var warnings = layout.Problems.Where(p => p.Severity == CgroupProblemSeverity.Warning && p.Fix is not null).ToList();
        string notes = string.Concat(layout.Problems.Where(p => p.Severity != CgroupProblemSeverity.Blocking).Select(p => " " + p.What));

        if (layout.Kind == CgroupLayoutKind.None)
            return log.NotOk(HostCheckNames.CgroupDelegation, HostCheckStatus.Missing,
                "There is no cgroup hierarchy with controllers, so no sandbox cgroup can be made.",
                $"Mount cgroups first: see the cgroups check. {RlimitFallback}");
        if (blocking.Count == 0)
        {
            string finding = $"{who} can create sandbox cgroups, {where}.{notes}";
            return warnings.Count == 0
                ? log.Ok(HostCheckNames.CgroupDelegation, finding)
                : log.NotOk(HostCheckNames.CgroupDelegation, HostCheckStatus.Warning, finding,
                    string.Join(" ", warnings.Select(w => w.Fix)));
        }

        bool rootlessV1 = !facts.Credentials.IsRoot && layout.Kind is CgroupLayoutKind.Legacy or CgroupLayoutKind.Hybrid;
        string fixes = string.Join(" ", blocking.Where(p => p.Fix is not null).Select(p => p.Fix).Distinct());
        string fix = rootlessV1
            ? "cgroup v1 delegates nothing to an unprivileged user: use --rlimit-fallback (WithRlimitFallback()) to enforce memory and " +
              "CPU time as rlimits per process, or a delegated cgroup v2 subtree (boot with systemd.unified_cgroup_hierarchy=1, then " +
              "systemd-run --user --scope -p Delegate=yes -- COMMAND), or run as root."
            : $"{fixes} {(facts.Credentials.IsRoot ? "" : RlimitFallback)}".Trim();
        return log.NotOk(HostCheckNames.CgroupDelegation, HostCheckStatus.Missing,
            $"{who} cannot create sandbox cgroups ({where}): {string.Join(" ", blocking.Select(p => p.What))}{notes}",
            fix);
    }

    /// <summary>Where sandbox cgroups go: the v2 parent and whether it is writable, or each v1 hierarchy's.</summary>
    private static string Where(CgroupLayout layout)
    {
        if (layout.Kind == CgroupLayoutKind.Unified && layout.Unified is { } v2)
            return $"under {v2.ParentDirectory ?? $"{v2.ParentCgroup} (outside the mount)"}{(v2.ParentExists ? "" : " (to be created)")}, " +
                $"{(v2.Writable ? "writable" : "not writable")}, controllers enabled for children: " +
                (v2.EnabledControllers.Count == 0 ? "none yet" : string.Join(' ', v2.EnabledControllers.Order(StringComparer.Ordinal)));
        // The hierarchies sandbox cgroups may join: the default ones, and cpuset and blkio for CPU sets and I/O limits.
        string[] usable = [.. CgroupOptions.DefaultV1Controllers, Cgroups.V1.V1CpuController.Name, Cgroups.V1.V1CpusetController.Name, Cgroups.V1.V1BlkioController.Name];
        var parts = layout.V1Hierarchies
            .Where(h => h.Controllers.Any(c => usable.Contains(c, StringComparer.Ordinal)))
            .GroupBy(h => (Directory: h.ParentDirectory is null ? null : Path.GetRelativePath(h.MountPoint, h.ParentDirectory), h.Writable))
            .Select(g => $"{string.Join(", ", g.SelectMany(h => h.Controllers))} in {(g.Key.Directory is null ? "(outside the mount)" : g.Key.Directory == "." ? "the root" : "/" + g.Key.Directory)} " +
                $"({(g.Key.Writable ? "writable" : "not writable")})");
        return $"in each v1 hierarchy under this process's own cgroup: {string.Join("; ", parts)}";
    }
}
