namespace Sandbox.Cgroups;

/// <summary>Where sandbox cgroups go and how long the drivers wait for the kernel.</summary>
internal sealed record CgroupOptions
{
    /// <summary>The v2 controllers every sandbox needs (cpu.stat's usage exists without the cpu controller, but quotas do not).</summary>
    public static IReadOnlyList<string> DefaultV2Controllers { get; } = ["cpu", "memory", "pids"];

    /// <summary>
    /// The v1 hierarchies every sandbox cgroup joins: accounting — cpuacct (CPU time), memory (peak, OOM kills) and pids
    /// (peak processes) — and their limits. The cpu hierarchy is joined only for a CPU quota or weight, cpuset and blkio
    /// only for their limits. Each hierarchy costs a mkdir, a cgroup.procs write and an rmdir per sandbox, so freezer is
    /// not among them: killing a sandbox is its PID namespace's job (init's death kills every process in it and refuses
    /// new forks), and the cgroup's kill loop, a fallback, pins pids with pidfds instead (add "freezer" to freeze too).
    /// </summary>
    public static IReadOnlyList<string> DefaultV1Controllers { get; } = ["cpuacct", "memory", "pids"];

    /// <summary>The default options.</summary>
    public static CgroupOptions Default { get; } = new();

    /// <summary>
    /// The cgroup under which sandbox cgroups are created, as a path in the hierarchy (e.g. <c>/sandbox</c>), the same
    /// in every v1 hierarchy; created if missing. Null: the host process's own cgroup (per hierarchy), which is what a
    /// delegated v2 subtree (systemd <c>Delegate=yes</c>) gives a rootless host.
    /// </summary>
    public string? ParentCgroup { get; init; }

    /// <summary>The v2 controllers to enable for sandbox cgroups (add <c>cpuset</c> and <c>io</c> to limit those).</summary>
    public IReadOnlyList<string> V2Controllers { get; init; } = DefaultV2Controllers;

    /// <summary>The v1 hierarchies every sandbox cgroup joins (cpu, cpuset and blkio are joined when the limits use them).</summary>
    public IReadOnlyList<string> V1Controllers { get; init; } = DefaultV1Controllers;

    /// <summary>
    /// v2 only: when the parent cgroup holds processes (the host itself, in a delegated systemd scope) and is not the
    /// root, v2 forbids enabling controllers for its children; move those processes into the leaf
    /// <c>PARENT/sandbox.host</c> first. Off: such a parent is reported as blocking.
    /// </summary>
    public bool MoveHostProcessesToLeaf { get; init; } = true;

    /// <summary>
    /// On a hybrid host, put sandbox cgroups on its cgroup2 hierarchy (the v2 driver) instead of the v1 controllers.
    /// Off by default, and rightly: a hybrid host's cgroup2 mount usually has no controllers (here only hugetlb), so it
    /// gives CPU time (cpu.stat is always there), cgroup.kill and clone3's CLONE_INTO_CGROUP, but a memory or process
    /// limit on it fails as "controller not available". Tests use it to drive the v2 driver on a real cgroup2 mount.
    /// </summary>
    public bool UnifiedOnHybrid { get; init; }

    /// <summary>How often the drivers poll while waiting for a cgroup to freeze, empty or go away.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>How long killing a sandbox's processes may take before it is reported as failed.</summary>
    public TimeSpan KillTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long rmdir is retried while the kernel still reports the cgroup as busy.</summary>
    public TimeSpan RemoveTimeout { get; init; } = TimeSpan.FromSeconds(1);
}
