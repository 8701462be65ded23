using System.Collections.Immutable;
using System.Diagnostics.Contracts;

namespace Sandbox;

public sealed partial record SandboxSpec
{
    /// <summary>The memory limit (cgroup memory.max / memory.limit_in_bytes, swap off); exceeding it is <see cref="SandboxOutcome.MemoryLimitExceeded"/>.</summary>
    public long? MemoryLimitBytes { get; init; }

    /// <summary>How many processes and threads the sandbox may hold at once (cgroup pids.max).</summary>
    public long? ProcessLimit { get; init; }

    /// <summary>CPU time of all the sandbox's processes and threads together; exceeding it is <see cref="SandboxOutcome.CpuTimeLimitExceeded"/>.</summary>
    public TimeSpan? CpuTimeLimit { get; init; }

    /// <summary>The CPU bandwidth, in CPUs (0.5 = half of one CPU; cgroup cpu.max / cfs_quota_us).</summary>
    public double? CpuQuota { get; init; }

    /// <summary>RLIMIT_FSIZE: the largest file the program may write.</summary>
    public ulong? FileSizeLimitBytes { get; init; }

    /// <summary>RLIMIT_STACK of the program.</summary>
    public ulong? StackLimitBytes { get; init; }

    /// <summary>
    /// Where cgroups cannot be used (rootless on cgroup v1, no delegation), enforce what rlimits can instead
    /// of failing: memory as RLIMIT_AS, CPU time as RLIMIT_CPU per process; a process limit and a CPU quota
    /// are then not enforced. The result's <see cref="SandboxResult.Enforced"/> says what was.
    /// </summary>
    public bool AllowRlimitFallback { get; init; }

    /// <summary>The CPUs the sandbox may run on, as a CPU list such as <c>0-1,3</c> (cgroup cpuset.cpus); null: every CPU it would have anyway.</summary>
    public string? CpuSet { get; init; }

    /// <summary>The memory nodes the sandbox may allocate from, as a list such as <c>0</c> (cgroup cpuset.mems); null: the parent cgroup's.</summary>
    public string? MemoryNodeSet { get; init; }

    /// <summary>Block I/O limits, one per device (cgroup v2 io.max; v1 blkio.throttle.*).</summary>
    public ImmutableArray<SandboxIoLimit> IoLimits { get; init; } = [];

    /// <summary>The process limit of a sandbox with a cgroup of its own whose spec sets none: contains a fork bomb.</summary>
    public const long DefaultProcessLimit = 1024;

    /// <summary>
    /// Whether the sandbox gets a cgroup of its own wherever the host can make one (root, or a delegated cgroup v2
    /// subtree), even when no limit asks for it: its CPU time, peak memory and OOM kills are then accounted by the
    /// kernel, and it is held to <see cref="DefaultProcessLimit"/> unless <see cref="ProcessLimit"/> says otherwise.
    /// On by default; where the host cannot make cgroups (rootless on v1, no delegation) a sandbox without limits
    /// runs without one, and its accounting comes from rusage (the result's sources say which). Opt out with
    /// <see cref="WithoutOwnCgroup"/>.
    /// </summary>
    public bool UsesOwnCgroup { get; init; } = true;

    /// <summary>Whether any limit needs a cgroup.</summary>
    internal bool NeedsCgroup => MemoryLimitBytes is not null || ProcessLimit is not null || CpuTimeLimit is not null || CpuQuota is not null
        || CpuSet is not null || MemoryNodeSet is not null || !IoLimits.IsDefaultOrEmpty;

    /// <summary>The memory limit.</summary>
    [Pure]
    public SandboxSpec WithMemoryLimit(long bytes) => this with { MemoryLimitBytes = bytes };

    /// <summary>The process (and thread) limit.</summary>
    [Pure]
    public SandboxSpec WithProcessLimit(long processes) => this with { ProcessLimit = processes };

    /// <summary>The CPU-time limit, charged for every thread of every process.</summary>
    [Pure]
    public SandboxSpec WithCpuTimeLimit(TimeSpan limit) => this with { CpuTimeLimit = limit };

    /// <summary>The CPU bandwidth in CPUs.</summary>
    [Pure]
    public SandboxSpec WithCpuQuota(double cpus) => this with { CpuQuota = cpus };

    /// <summary>RLIMIT_FSIZE.</summary>
    [Pure]
    public SandboxSpec WithFileSizeLimit(ulong bytes) => this with { FileSizeLimitBytes = bytes };

    /// <summary>RLIMIT_STACK.</summary>
    [Pure]
    public SandboxSpec WithStackLimit(ulong bytes) => this with { StackLimitBytes = bytes };

    /// <summary>Pins the sandbox to <paramref name="cpus"/> (and, if given, the memory nodes <paramref name="memoryNodes"/>) with the cgroup cpuset controller.</summary>
    /// <param name="cpus">A CPU list: indexes and ranges, e.g. <c>0</c>, <c>0-1,3</c>; each CPU must be online.</param>
    /// <param name="memoryNodes">A memory node list, e.g. <c>0</c>; null leaves the parent cgroup's.</param>
    [Pure]
    public SandboxSpec WithCpuSet(string cpus, string? memoryNodes = null) => this with { CpuSet = cpus, MemoryNodeSet = memoryNodes };

    /// <summary>Adds block I/O limits for one device (see <see cref="SandboxIoLimit"/>).</summary>
    [Pure]
    public SandboxSpec AddIoLimit(SandboxIoLimit limit) => this with { IoLimits = IoLimits.Add(limit) };

    /// <summary>Adds block I/O limits for one whole disk, as MAJOR:MINOR or a device path; null leaves a figure unlimited.</summary>
    /// <param name="device">MAJOR:MINOR (e.g. <c>254:0</c>) or a block device path (e.g. <c>/dev/vda</c>).</param>
    /// <param name="readBytesPerSecond">Read bandwidth.</param>
    /// <param name="writeBytesPerSecond">Write bandwidth.</param>
    /// <param name="readOperationsPerSecond">Read operations per second.</param>
    /// <param name="writeOperationsPerSecond">Write operations per second.</param>
    [Pure]
    public SandboxSpec AddIoLimit(string device, long? readBytesPerSecond = null, long? writeBytesPerSecond = null,
        long? readOperationsPerSecond = null, long? writeOperationsPerSecond = null) =>
        AddIoLimit(new SandboxIoLimit(device, readBytesPerSecond, writeBytesPerSecond, readOperationsPerSecond, writeOperationsPerSecond));

    /// <summary>
    /// Opts out of the sandbox's own cgroup when no limit needs one: no default process limit, accounting from rusage,
    /// and about 0.4 ms less per launch. Refused together with a limit that needs a cgroup.
    /// </summary>
    [Pure]
    public SandboxSpec WithoutOwnCgroup() => this with { UsesOwnCgroup = false };

    /// <summary>Opts in to rlimits where cgroups are unavailable (see <see cref="AllowRlimitFallback"/>).</summary>
    [Pure]
    public SandboxSpec WithRlimitFallback() => this with { AllowRlimitFallback = true };

    /// <summary>The names of the limits this spec sets that need a cgroup.</summary>
    internal IEnumerable<string> CgroupLimitNames()
    {
        if (MemoryLimitBytes is not null) yield return "memory";
        if (ProcessLimit is not null) yield return "processes";
        if (CpuTimeLimit is not null) yield return "CPU time";
        if (CpuQuota is not null) yield return "CPU quota";
        if (CpuSet is not null || MemoryNodeSet is not null) yield return "CPU set";
        if (!IoLimits.IsDefaultOrEmpty) yield return "I/O";
    }

    private void ValidateLimits(List<string> problems)
    {
        if (MemoryLimitBytes is < 1 << 20)
            problems.Add($"MemoryLimitBytes {MemoryLimitBytes} is too small: give at least 1 MiB (the program's own pages count).");
        if (ProcessLimit is < 1)
            problems.Add($"ProcessLimit {ProcessLimit} must be at least 1.");
        if (!UsesOwnCgroup && NeedsCgroup)
            problems.Add("UsesOwnCgroup is off (WithoutOwnCgroup), but the spec sets limits that need a cgroup (" + string.Join(", ", CgroupLimitNames()) +
                "): keep the cgroup, or drop those limits.");
        if (CpuTimeLimit is { } cpu && cpu <= TimeSpan.Zero)
            problems.Add($"CpuTimeLimit {cpu} must be positive.");
        if (CpuQuota is { } q && (double.IsNaN(q) || q < 0.01 || q > 4096))
            problems.Add($"CpuQuota {q} must be between 0.01 and 4096 CPUs.");
        if (FileSizeLimitBytes is 0)
            problems.Add("FileSizeLimitBytes 0 forbids writing any file: use at least 1.");
        if (StackLimitBytes is < 64 * 1024)
            problems.Add($"StackLimitBytes {StackLimitBytes} is too small: give at least 64 KiB.");
        if (CpuSet is not null && (!Cgroups.CpuList.TryParse(CpuSet, out var cpus) || cpus.Count == 0))
            problems.Add($"CpuSet '{CpuSet}' is not a CPU list: give CPU indexes and ranges such as '0', '0-1,3' (ascending ranges, at most {Cgroups.CpuList.MaxIndex}).");
        if (MemoryNodeSet is not null && (!Cgroups.CpuList.TryParse(MemoryNodeSet, out var nodes) || nodes.Count == 0))
            problems.Add($"MemoryNodeSet '{MemoryNodeSet}' is not a memory node list: give node indexes and ranges such as '0' or '0-1'.");
        foreach (var io in IoLimits)
        {
            if (io is null)
                problems.Add("An I/O limit is null.");
            else
                problems.AddRange(io.Problems());
        }
        foreach (var device in IoLimits.Where(io => io is not null).GroupBy(io => io.Device, StringComparer.Ordinal).Where(g => g.Count() > 1))
            problems.Add($"Device '{device.Key}' has {device.Count()} I/O limits: give each device one, with all its figures.");
    }
}
