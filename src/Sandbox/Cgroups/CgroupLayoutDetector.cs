namespace Sandbox.Cgroups;

/// <summary>
/// Finds how cgroups are mounted (from /proc/self/mountinfo and /proc/self/cgroup), where sandbox cgroups would go,
/// whether the current user may create them there, and says precisely what is missing. Reads only: detection never
/// creates, writes or moves anything.
/// </summary>
internal static class CgroupLayoutDetector
{
    /// <summary>The name of the leaf the v2 driver moves the parent's processes into (see <see cref="CgroupOptions.MoveHostProcessesToLeaf"/>).</summary>
    public const string HostLeafName = "sandbox.host";

    /// <summary>Controller names a v1 mount's super options may carry (anything else there is a mount option).</summary>
    public static IReadOnlySet<string> KnownV1Controllers { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "blkio", "cpu", "cpuacct", "cpuset", "debug", "devices", "freezer", "hugetlb", "memory", "misc", "net_cls",
        "net_prio", "perf_event", "pids", "rdma",
    };

    /// <summary>Detects the layout through <paramref name="fileSystem"/>.</summary>
    /// <param name="fileSystem">The seam.</param>
    /// <param name="effectiveUserId">
    /// This process's effective uid (ISyscalls.EffectiveUserId): it chooses the advice (root vs rootless). Whether a
    /// cgroup is writable is the file system's verdict (<see cref="ICgroupFileSystem.CanWrite"/>), not derived from it.
    /// </param>
    /// <param name="options">The parent cgroup and the controllers sandboxes need.</param>
    public static CgroupLayout Detect(ICgroupFileSystem fileSystem, uint effectiveUserId, CgroupOptions? options = null)
    {
        options ??= CgroupOptions.Default;
        IReadOnlyList<MountInfoEntry> mounts = MountInfoParser.Parse(fileSystem.ReadMountInfo());
        IReadOnlyList<ProcCgroupEntry> own = ProcCgroupParser.Parse(fileSystem.ReadProcSelfCgroup());
        var problems = new List<CgroupProblem>();

        CgroupV2Hierarchy? unified = DetectUnified(fileSystem, mounts, own, options);
        IReadOnlyList<CgroupV1Hierarchy> v1 = DetectV1(fileSystem, mounts, own, options);

        CgroupLayoutKind kind = (unified, v1.Count) switch
        {
            (null, 0) => CgroupLayoutKind.None,
            (null, _) => CgroupLayoutKind.Legacy,
            (_, 0) => CgroupLayoutKind.Unified,
            _ => CgroupLayoutKind.Hybrid,
        };

        switch (kind)
        {
            case CgroupLayoutKind.None:
                problems.Add(new CgroupProblem(
                    CgroupProblemSeverity.Blocking,
                    "No cgroup file system is mounted: /proc/self/mountinfo lists neither cgroup2 nor a cgroup v1 controller.",
                    "Mount cgroup v2 as root: `mount -t cgroup2 cgroup2 /sys/fs/cgroup`; in a container, start it with a "
                    + "cgroup namespace and a writable /sys/fs/cgroup; or allow rlimit-only limits."));
                break;
            case CgroupLayoutKind.Unified:
                CheckUnified(unified!, effectiveUserId, options, problems);
                break;
            case CgroupLayoutKind.Hybrid when options.UnifiedOnHybrid:
                problems.Add(new CgroupProblem(
                    CgroupProblemSeverity.Info,
                    $"Hybrid layout: sandboxes use the cgroup2 hierarchy at {unified!.MountPoint} as configured, which holds only "
                    + $"[{string.Join(' ', unified.AvailableControllers.Order(StringComparer.Ordinal))}]; the v1 controllers are not used.",
                    null));
                CheckUnified(unified, effectiveUserId, options, problems);
                break;
            default:
                if (kind == CgroupLayoutKind.Hybrid)
                {
                    problems.Add(new CgroupProblem(
                        CgroupProblemSeverity.Info,
                        $"Hybrid layout: sandboxes use the v1 controllers; the cgroup2 hierarchy at {unified!.MountPoint} "
                        + $"holds only [{string.Join(' ', unified.AvailableControllers.Order(StringComparer.Ordinal))}].",
                        null));
                }
                CheckV1(v1, effectiveUserId, options, problems);
                break;
        }
        if (kind != CgroupLayoutKind.None)
        {
            CheckFavorDynamicModifications(fileSystem, mounts, problems);
        }
        return new CgroupLayout(kind, unified, v1, effectiveUserId, problems)
        {
            UnifiedOnHybrid = kind == CgroupLayoutKind.Hybrid && options.UnifiedOnHybrid,
        };
    }

    /// <summary>
    /// Moving a process into a cgroup (the launcher's cgroup.procs write) takes the kernel's cgroup_threadgroup_rwsem
    /// for writing; unless a cgroup hierarchy is mounted with <c>favordynmods</c>, that per-cpu semaphore makes the first
    /// writer after a quiet spell wait for an RCU grace period — milliseconds per sandbox when launches are spaced out.
    /// Said (as information) when the kernel offers the option (/sys/kernel/cgroup/features) and no mount uses it.
    /// </summary>
    private static void CheckFavorDynamicModifications(ICgroupFileSystem fileSystem, IReadOnlyList<MountInfoEntry> mounts, List<CgroupProblem> problems)
    {
        bool offered = (fileSystem.TryReadText("/sys/kernel/cgroup/features") ?? "")
            .Split('\n', StringSplitOptions.TrimEntries).Contains("favordynmods", StringComparer.Ordinal);
        bool used = mounts.Any(m => m.FileSystemType is "cgroup" or "cgroup2" && m.SuperOptionList.Contains("favordynmods", StringComparer.Ordinal));
        if (offered && !used)
        {
            string target = mounts.FirstOrDefault(m => m.FileSystemType == "cgroup2")?.MountPoint ?? "/sys/fs/cgroup/<controller>";
            problems.Add(new CgroupProblem(
                CgroupProblemSeverity.Info,
                "No cgroup hierarchy is mounted with favordynmods: joining a sandbox's cgroup (a cgroup.procs write) waits for "
                + "an RCU grace period whenever no process has moved between cgroups for a few milliseconds, which can add "
                + "milliseconds to each launch when launches are spaced out.",
                $"As root: `mount -o remount,favordynmods {target}` (on Linux 6.18 it cannot be turned off again until reboot), "
                + "or boot with `cgroup_favordynmods=1` where the kernel has that parameter; forks and exits then take a slightly slower lock."));
        }
    }

    private static CgroupV2Hierarchy? DetectUnified(
        ICgroupFileSystem fileSystem, IReadOnlyList<MountInfoEntry> mounts, IReadOnlyList<ProcCgroupEntry> own, CgroupOptions options)
    {
        string? ownCgroup = own.FirstOrDefault(e => e.IsUnified)?.Path;
        MountInfoEntry? mount = ChooseMount(mounts.Where(m => m.FileSystemType == "cgroup2"), ownCgroup);
        if (mount is null)
        {
            return null;
        }
        string? ownDirectory = ownCgroup is null ? null : CgroupPaths.ToDirectory(mount.MountPoint, mount.Root, ownCgroup);
        string parent = CgroupPaths.Normalize(options.ParentCgroup ?? ownCgroup ?? mount.Root);
        string? parentDirectory = CgroupPaths.ToDirectory(mount.MountPoint, mount.Root, parent);
        bool parentExists = parentDirectory is not null && fileSystem.Exists(parentDirectory);
        string? existing = parentDirectory is null ? null : NearestExisting(fileSystem, mount.MountPoint, parentDirectory);

        IReadOnlySet<string> available = Words(existing is null ? null : fileSystem.TryReadText(existing + "/cgroup.controllers"));
        IReadOnlySet<string> enabled = parentExists
            ? Words(fileSystem.TryReadText(parentDirectory + "/cgroup.subtree_control"))
            : new HashSet<string>(StringComparer.Ordinal);
        bool hasProcesses = parentExists
            && !string.IsNullOrWhiteSpace(fileSystem.TryReadText(parentDirectory + "/cgroup.procs"));
        bool writable = existing is not null && fileSystem.CanWrite(existing);
        // Every cgroup but the real root has cgroup.type (Linux 4.14+); so does the root of a cgroup namespace.
        bool isRoot = existing is not null && existing == parentDirectory && !fileSystem.Exists(existing + "/cgroup.type");
        bool hasKill = HasKillFile(fileSystem, existing, isRoot);

        return new CgroupV2Hierarchy(
            mount.MountPoint, mount.Root, ownCgroup, ownDirectory, parent, parentDirectory, parentExists,
            available, enabled, hasProcesses, writable, isRoot, hasKill);
    }

    private static IReadOnlyList<CgroupV1Hierarchy> DetectV1(
        ICgroupFileSystem fileSystem, IReadOnlyList<MountInfoEntry> mounts, IReadOnlyList<ProcCgroupEntry> own, CgroupOptions options)
    {
        var hierarchies = new List<CgroupV1Hierarchy>();
        var groups = mounts
            .Where(m => m.FileSystemType == "cgroup")
            .Select(m => (Mount: m, Controllers: m.SuperOptionList.Where(KnownV1Controllers.Contains).Order(StringComparer.Ordinal).ToArray()))
            .Where(x => x.Controllers.Length > 0)
            .GroupBy(x => string.Join(',', x.Controllers), StringComparer.Ordinal);
        foreach (var group in groups)
        {
            string[] controllers = group.First().Controllers;
            string? ownCgroup = own
                .FirstOrDefault(e => !e.IsUnified && e.Controllers.Where(KnownV1Controllers.Contains).Order(StringComparer.Ordinal).SequenceEqual(controllers))
                ?.Path;
            MountInfoEntry mount = ChooseMount(group.Select(x => x.Mount), ownCgroup)!;
            string? ownDirectory = ownCgroup is null ? null : CgroupPaths.ToDirectory(mount.MountPoint, mount.Root, ownCgroup);
            string parent = CgroupPaths.Normalize(options.ParentCgroup ?? ownCgroup ?? mount.Root);
            string? parentDirectory = CgroupPaths.ToDirectory(mount.MountPoint, mount.Root, parent);
            bool parentExists = parentDirectory is not null && fileSystem.Exists(parentDirectory);
            string? existing = parentDirectory is null ? null : NearestExisting(fileSystem, mount.MountPoint, parentDirectory);
            bool writable = existing is not null && fileSystem.CanWrite(existing);
            hierarchies.Add(new CgroupV1Hierarchy(
                controllers, mount.MountPoint, mount.Root, ownCgroup, ownDirectory, parent, parentDirectory, parentExists, writable));
        }
        return hierarchies;
    }

    private static void CheckUnified(CgroupV2Hierarchy v2, uint euid, CgroupOptions options, List<CgroupProblem> problems)
    {
        if (v2.ParentDirectory is null)
        {
            problems.Add(new CgroupProblem(
                CgroupProblemSeverity.Blocking,
                $"The parent cgroup {v2.ParentCgroup} is outside the cgroup2 mount at {v2.MountPoint} (which shows the "
                + $"cgroup {v2.MountRoot}): this process's cgroup namespace and that mount do not match.",
                $"Mount cgroup2 from inside this process's cgroup namespace, or set the parent cgroup to one under {v2.MountRoot}."));
            return;
        }
        if (!v2.Writable)
        {
            problems.Add(euid == 0
                ? new CgroupProblem(
                    CgroupProblemSeverity.Blocking,
                    $"{v2.ParentDirectory} is not writable even for root: cgroup2 is mounted read-only, or this process is "
                    + "root only inside a user namespace that does not own the cgroup.",
                    $"Remount it read-write (`mount -o remount,rw {v2.MountPoint}`), or run the host in a container with a "
                    + "private cgroup namespace and a writable cgroup2 mount.")
                : new CgroupProblem(
                    CgroupProblemSeverity.Blocking,
                    $"Rootless on cgroup v2 needs a delegated subtree: {v2.ParentDirectory} (and its cgroup.procs) is not "
                    + $"writable by uid {euid}.",
                    "Run the host under `systemd-run --user --scope -p Delegate=yes <command>` (or set `Delegate=yes` in its "
                    + $"service unit), or set the parent cgroup to a subtree chown'ed to uid {euid} (the directory and its "
                    + "cgroup.procs, cgroup.threads and cgroup.subtree_control)."));
        }

        string[] missing = [.. options.V2Controllers.Where(c => !v2.AvailableControllers.Contains(c))];
        if (missing.Length > 0)
        {
            string which = string.Join(' ', missing);
            string fix = v2.ParentIsRoot
                ? "This kernel lacks them or they are bound to a cgroup v1 hierarchy: unmount that hierarchy, or boot with "
                  + "`systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all`."
                : euid != 0
                    ? "Delegate them to your user: create /etc/systemd/system/user@.service.d/delegate.conf with `[Service]` "
                      + $"and `Delegate=cpu cpuset io memory pids`, run `systemctl daemon-reload`, and log in again."
                    : $"Enable them in every ancestor, e.g. `echo '{string.Join(' ', missing.Select(c => "+" + c))}' > "
                      + $"{CgroupPaths.ToDirectory(v2.MountPoint, v2.MountRoot, CgroupPaths.ParentOf(v2.ParentCgroup))}/cgroup.subtree_control`.";
            problems.Add(new CgroupProblem(
                CgroupProblemSeverity.Blocking,
                $"Controllers [{which}] are not available to {v2.ParentDirectory} (its cgroup.controllers lists "
                + $"[{string.Join(' ', v2.AvailableControllers.Order(StringComparer.Ordinal))}]).",
                fix));
        }

        string[] toEnable = [.. options.V2Controllers.Where(c => v2.AvailableControllers.Contains(c) && !v2.EnabledControllers.Contains(c))];
        if (toEnable.Length > 0)
        {
            string which = string.Join(' ', toEnable);
            if (v2.ParentHasProcesses && !v2.ParentIsRoot)
            {
                problems.Add(options.MoveHostProcessesToLeaf
                    ? new CgroupProblem(
                        CgroupProblemSeverity.Warning,
                        $"The parent {v2.ParentDirectory} holds processes (this host among them), and cgroup v2 lets only a "
                        + $"cgroup without processes enable controllers for its children: the driver will move them into "
                        + $"{v2.ParentDirectory}/{HostLeafName} and then enable [{which}].",
                        null)
                    : new CgroupProblem(
                        CgroupProblemSeverity.Blocking,
                        $"The parent {v2.ParentDirectory} holds processes (this host among them), so cgroup v2 does not let "
                        + $"it enable [{which}] for its children.",
                        "Let the driver move them into a leaf (MoveHostProcessesToLeaf), or start the host in a leaf of a "
                        + "delegated cgroup and use the leaf's empty parent as the parent cgroup."));
            }
            else if (v2.Writable)
            {
                problems.Add(new CgroupProblem(
                    CgroupProblemSeverity.Info,
                    $"Controllers [{which}] will be enabled in {v2.ParentDirectory}/cgroup.subtree_control.",
                    null));
            }
        }

        if (!v2.HasKill)
        {
            problems.Add(new CgroupProblem(
                CgroupProblemSeverity.Info,
                "cgroup.kill was not found (Linux < 5.14, or only the root cgroup exists): sandboxes are killed by "
                + "freezing them (cgroup.freeze) and signalling every process.",
                null));
        }
    }

    private static void CheckV1(IReadOnlyList<CgroupV1Hierarchy> v1, uint euid, CgroupOptions options, List<CgroupProblem> problems)
    {
        foreach (string controller in options.V1Controllers)
        {
            if (!v1.Any(h => h.Controllers.Contains(controller, StringComparer.Ordinal)))
            {
                problems.Add(new CgroupProblem(
                    CgroupProblemSeverity.Blocking,
                    $"The cgroup v1 controller '{controller}' is not mounted.",
                    $"Mount it as root: `mkdir -p /sys/fs/cgroup/{controller} && mount -t cgroup -o {controller} cgroup "
                    + $"/sys/fs/cgroup/{controller}` (check /proc/cgroups that the kernel has it enabled)."));
            }
        }

        var needed = v1.Where(h => h.Controllers.Any(c => options.V1Controllers.Contains(c, StringComparer.Ordinal))).ToArray();
        foreach (CgroupV1Hierarchy hierarchy in needed.Where(h => h.ParentDirectory is null))
        {
            problems.Add(new CgroupProblem(
                CgroupProblemSeverity.Blocking,
                $"The parent cgroup {hierarchy.ParentCgroup} is outside the {string.Join(',', hierarchy.Controllers)} mount at "
                + $"{hierarchy.MountPoint} (which shows the cgroup {hierarchy.MountRoot}).",
                $"Set the parent cgroup to one under {hierarchy.MountRoot}, or mount the hierarchy's root."));
        }

        string[] readOnly = [.. needed.Where(h => h.ParentDirectory is not null && !h.Writable).Select(h => h.ParentDirectory!)];
        if (readOnly.Length > 0)
        {
            problems.Add(euid == 0
                ? new CgroupProblem(
                    CgroupProblemSeverity.Blocking,
                    $"Not writable even for root: {string.Join(", ", readOnly)} (a read-only mount, or root only inside a "
                    + "user namespace).",
                    "Remount the hierarchies read-write (`mount -o remount,rw /sys/fs/cgroup/<controller>`), or run the host "
                    + "outside the user namespace.")
                : new CgroupProblem(
                    CgroupProblemSeverity.Blocking,
                    $"Rootless sandboxes cannot use cgroup v1 (no safe delegation): {string.Join(", ", readOnly)} "
                    + $"not writable by uid {euid}.",
                    "Run the host as root, or switch the host to cgroup v2 (boot with `systemd.unified_cgroup_hierarchy=1`) "
                    + "and use a delegated subtree, or allow rlimit-only limits."));
        }
    }

    /// <summary>Picks, among mounts of one hierarchy, the one that shows the process's cgroup, preferring the widest root.</summary>
    private static MountInfoEntry? ChooseMount(IEnumerable<MountInfoEntry> candidates, string? ownCgroup) =>
        candidates
            .Select((mount, index) => (mount, index))
            .OrderBy(x => ownCgroup is not null && CgroupPaths.ToDirectory(x.mount.MountPoint, x.mount.Root, ownCgroup) is not null ? 0 : 1)
            .ThenBy(x => CgroupPaths.Normalize(x.mount.Root).Length)
            .ThenBy(x => x.index)
            .Select(x => x.mount)
            .FirstOrDefault();

    private static string? NearestExisting(ICgroupFileSystem fileSystem, string mountPoint, string directory)
    {
        string current = directory;
        while (!fileSystem.Exists(current))
        {
            if (current.Length <= mountPoint.Length)
            {
                return null;
            }
            int slash = current.LastIndexOf('/');
            if (slash <= 0)
            {
                return null;
            }
            current = current[..slash];
        }
        return current;
    }

    private static bool HasKillFile(ICgroupFileSystem fileSystem, string? existing, bool isRoot)
    {
        if (existing is null)
        {
            return false;
        }
        // The root cgroup has no cgroup.kill; look in one of its children instead.
        if (isRoot)
        {
            return fileSystem.ListDirectories(existing).Any(child => fileSystem.Exists($"{CgroupPaths.Join(existing, child)}/cgroup.kill"));
        }
        return fileSystem.Exists(existing + "/cgroup.kill");
    }

    private static HashSet<string> Words(string? text) =>
        new((text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
}
