namespace Sandbox.Diagnostics.Checks;

/// <summary>
/// Whether this user may create a child cgroup under its own cgroup (what resource limits need): on v2, its cgroup's
/// directory and cgroup.procs must be writable (a systemd delegated subtree); on v1, each controller's directory. Judged
/// by permissions and by opening files for writing, never by creating anything.
/// </summary>
internal static class CgroupDelegationCheck
{
    public static HostCheck Run(HostFacts facts)
    {
        var log = new EvidenceLog(facts.Files);
        if (facts.ProcSelfCgroup is null || facts.Credentials is null)
        {
            log.Add(CgroupMembership.ProcSelfCgroup, facts.ProcSelfCgroup is null ? EvidenceLog.Absent : "read");
            log.Add(ProcStatus.Path, facts.Credentials is null ? "(unreadable or without Uid, Gid, CapEff)" : "read");
            return log.NotOk(HostCheckNames.CgroupDelegation, HostCheckStatus.Unknown,
                $"{CgroupMembership.ProcSelfCgroup} or {ProcStatus.Path} could not be read.",
                "Mount /proc (the sandbox needs it too): mount -t proc proc /proc.");
        }
        return facts.Cgroups.Layout switch
        {
            HostCgroupLayout.V2 => Unified(facts, log, facts.Credentials, facts.Cgroups.Unified!),
            HostCgroupLayout.V1 or HostCgroupLayout.Hybrid => Legacy(facts, log, facts.Credentials),
            _ => log.NotOk(HostCheckNames.CgroupDelegation, HostCheckStatus.Missing,
                "There is no cgroup hierarchy with controllers to delegate.", "Mount cgroups first: see the cgroups check."),
        };
    }

    private static HostCheck Unified(HostFacts facts, EvidenceLog log, ProcessCredentials credentials, HostMount mount)
    {
        string who = facts.Subject;
        var line = facts.Memberships.FirstOrDefault(m => m.IsUnified);
        if (line is null)
        {
            log.Add(CgroupMembership.ProcSelfCgroup, "(no 0:: line)");
            return log.NotOk(HostCheckNames.CgroupDelegation, HostCheckStatus.Unknown,
                $"{CgroupMembership.ProcSelfCgroup} has no cgroup v2 line (0::PATH).", "Check that /proc belongs to this process's pid namespace.");
        }
        log.Add(CgroupMembership.ProcSelfCgroup, $"0::{line.Path}");
        if (HostCgroups.DirectoryOf(mount, line.Path) is not { } dir)
            return log.NotOk(HostCheckNames.CgroupDelegation, HostCheckStatus.Unknown,
                $"This process's cgroup {line.Path} is outside what {mount.MountPoint} shows (its root is {mount.Root}).",
                "Run in the cgroup namespace that mounted /sys/fs/cgroup.");

        var directory = ProbeDirectory(facts, log, credentials, mount, dir);
        string? procs = TryOpenForWriting(facts, log, $"{dir}/cgroup.procs");
        string? subtree = TryOpenForWriting(facts, log, $"{dir}/cgroup.subtree_control");
        string? controllers = log.Read($"{dir}/cgroup.controllers");
        string offered = string.IsNullOrWhiteSpace(controllers) ? "none" : controllers;

        if (directory.MayCreate && procs is null)
        {
            if (subtree is null)
                return log.Ok(HostCheckNames.CgroupDelegation,
                    $"{who} can create child cgroups in its cgroup {dir} and move processes into them (cgroup.procs and cgroup.subtree_control writable); controllers there: {offered}.");
            return log.NotOk(HostCheckNames.CgroupDelegation, HostCheckStatus.Warning,
                $"{who} can create child cgroups in {dir}, but cannot write its cgroup.subtree_control ({subtree}): the children get no controllers.",
                "Delegate cgroup.subtree_control along with the directory (systemd's Delegate=yes does).");
        }
        string why = directory.MayCreate ? $"cgroup.procs cannot be opened for writing ({procs})" : $"the directory is {directory.Reason}";
        return log.NotOk(HostCheckNames.CgroupDelegation, HostCheckStatus.Missing,
            $"{who} cannot create child cgroups under its cgroup {dir}: {why}.",
            mount.IsReadOnly ? ReadOnlyMountFix(mount)
            : credentials.IsRoot ? "Root is refused: look for a security module (SELinux, AppArmor) denying writes to cgroupfs."
            : "Run it in a delegated systemd scope: systemd-run --user --scope -p Delegate=yes -- COMMAND (the user manager delegates cpu, memory, pids and io), or in a service with Delegate=yes; or run as root.");
    }

    private static HostCheck Legacy(HostFacts facts, EvidenceLog log, ProcessCredentials credentials)
    {
        string who = facts.Subject;
        var writable = new List<string>();
        var refused = new List<(string Label, string Directory, string Reason)>();
        foreach (var hierarchy in facts.Cgroups.V1WithControllers)
        {
            var line = facts.Memberships.FirstOrDefault(m => m.HierarchyId != 0 && hierarchy.IsNamedBy(m.Controllers));
            if (line is null)
            {
                log.Add(CgroupMembership.ProcSelfCgroup, $"(no line for {hierarchy.Label})");
                refused.Add((hierarchy.Label, hierarchy.Mount.MountPoint, $"not listed in {CgroupMembership.ProcSelfCgroup}"));
                continue;
            }
            log.Add(CgroupMembership.ProcSelfCgroup, $"{line.HierarchyId}:{line.Controllers}:{line.Path}");
            if (HostCgroups.DirectoryOf(hierarchy.Mount, line.Path) is not { } dir)
            {
                refused.Add((hierarchy.Label, hierarchy.Mount.MountPoint, $"this process's cgroup {line.Path} lies outside the mount"));
                continue;
            }
            var probe = ProbeDirectory(facts, log, credentials, hierarchy.Mount, dir);
            if (probe.MayCreate)
                writable.Add(hierarchy.Label);
            else
                refused.Add((hierarchy.Label, dir, probe.Reason));
        }

        string unifiedNote = "";
        if (facts.Cgroups.Layout == HostCgroupLayout.Hybrid
            && facts.Memberships.FirstOrDefault(m => m.IsUnified) is { } v2Line
            && HostCgroups.DirectoryOf(facts.Cgroups.Unified!, v2Line.Path) is { } v2Dir)
        {
            var v2 = ProbeDirectory(facts, log, credentials, facts.Cgroups.Unified!, v2Dir);
            unifiedNote = $"; the cgroup2 part, {v2Dir}, is {(v2.MayCreate ? "writable" : v2.Reason)}";
        }

        if (refused.Count == 0)
            return log.Ok(HostCheckNames.CgroupDelegation,
                $"{who} can create child cgroups under its own cgroup in every v1 hierarchy: {string.Join(", ", writable)}{unifiedNote}.");

        string refusals = string.Join("; ", refused.GroupBy(r => r.Reason).Select(g => $"{string.Join(", ", g.Select(r => r.Label))}: {g.Key}"));
        bool readOnly = facts.Cgroups.V1WithControllers.Any(h => h.Mount.IsReadOnly);
        string fix = readOnly ? ReadOnlyMountFix(facts.Cgroups.V1WithControllers.First(h => h.Mount.IsReadOnly).Mount)
            : credentials.IsRoot ? "Root is refused: look for a security module (SELinux, AppArmor) denying writes to cgroupfs."
            : $"cgroup v1 has no unprivileged delegation. As root, give {facts.UserName} a cgroup in each hierarchy and start it there " +
              $"(for each D in {string.Join(" ", refused.Select(r => r.Directory).Distinct())}: mkdir D/sandbox; chown -R {credentials.Uid}:{credentials.Gid} D/sandbox; " +
              "then write the process's pid to D/sandbox/cgroup.procs); better, boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1) and use a delegated systemd scope; or run as root.";
        if (writable.Count > 0)
            return log.NotOk(HostCheckNames.CgroupDelegation, HostCheckStatus.Warning,
                $"{who} can create child cgroups in {string.Join(", ", writable)} but not in {refusals}{unifiedNote}.", fix);
        return log.NotOk(HostCheckNames.CgroupDelegation, HostCheckStatus.Missing,
            $"{who} cannot create child cgroups under its own cgroup in any v1 hierarchy: {refusals}{unifiedNote}.", fix);
    }

    private readonly record struct DirectoryProbe(bool MayCreate, string Reason);

    private static DirectoryProbe ProbeDirectory(HostFacts facts, EvidenceLog log, ProcessCredentials credentials, HostMount mount, string dir)
    {
        if (facts.Files.TryGetStatus(dir) is not { } status)
        {
            log.Add(dir, "(absent or cannot be examined)");
            return new(false, "absent or cannot be examined");
        }
        log.Add(dir, $"{status}" + (mount.IsReadOnly ? ", read-only mount" : ""));
        if (mount.IsReadOnly)
            return new(false, $"on a read-only mount ({mount.MountPoint})");
        return credentials.MayCreateIn(status)
            ? new(true, "writable")
            : new(false, $"not writable by uid {credentials.Uid} ({status})");
    }

    private static string? TryOpenForWriting(HostFacts facts, EvidenceLog log, string path)
    {
        string? error = facts.Files.TryOpen(path, FileAccess.Write);
        log.Add($"open({path}, O_WRONLY)", error ?? "allowed (closed unwritten)");
        return error;
    }

    private static string ReadOnlyMountFix(HostMount mount) =>
        $"{mount.MountPoint} is mounted read-only (as in most containers): give the container a writable, delegated cgroup " +
        "(podman does by default; docker needs --cgroupns=private and a writable /sys/fs/cgroup), or run on the host.";
}
