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

    /// <summary>Whether any limit needs a cgroup.</summary>
    internal bool NeedsCgroup => MemoryLimitBytes is not null || ProcessLimit is not null || CpuTimeLimit is not null || CpuQuota is not null;

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

    /// <summary>Opts in to rlimits where cgroups are unavailable (see <see cref="AllowRlimitFallback"/>).</summary>
    [Pure]
    public SandboxSpec WithRlimitFallback() => this with { AllowRlimitFallback = true };

    private void ValidateLimits(List<string> problems)
    {
        if (MemoryLimitBytes is < 1 << 20)
            problems.Add($"MemoryLimitBytes {MemoryLimitBytes} is too small: give at least 1 MiB (the program's own pages count).");
        if (ProcessLimit is < 1)
            problems.Add($"ProcessLimit {ProcessLimit} must be at least 1.");
        if (CpuTimeLimit is { } cpu && cpu <= TimeSpan.Zero)
            problems.Add($"CpuTimeLimit {cpu} must be positive.");
        if (CpuQuota is { } q && (double.IsNaN(q) || q < 0.01 || q > 4096))
            problems.Add($"CpuQuota {q} must be between 0.01 and 4096 CPUs.");
        if (FileSizeLimitBytes is 0)
            problems.Add("FileSizeLimitBytes 0 forbids writing any file: use at least 1.");
        if (StackLimitBytes is < 64 * 1024)
            problems.Add($"StackLimitBytes {StackLimitBytes} is too small: give at least 64 KiB.");
    }
}
