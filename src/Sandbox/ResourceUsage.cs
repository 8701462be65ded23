namespace Sandbox;

/// <summary>What a run used, and where each figure came from.</summary>
/// <param name="CpuTime">CPU time of every process and thread (user + system).</param>
/// <param name="UserCpuTime">User CPU time.</param>
/// <param name="SystemCpuTime">System CPU time.</param>
/// <param name="PeakMemoryBytes">The peak memory, if known.</param>
/// <param name="MemorySource">Where <paramref name="PeakMemoryBytes"/> came from.</param>
/// <param name="OomKilled">Whether the OOM killer killed a process of the sandbox.</param>
/// <param name="PeakProcesses">
/// The most processes and threads alive at once: the cgroup's pids.peak (Linux 6.1+, cgroup v1 and v2). Null without a
/// cgroup (no limit asked for one) or on a kernel without pids.peak: never estimated.
/// </param>
/// <param name="CpuSource">Where the CPU times came from.</param>
public sealed record ResourceUsage(
    TimeSpan CpuTime,
    TimeSpan UserCpuTime,
    TimeSpan SystemCpuTime,
    long? PeakMemoryBytes,
    MemorySource MemorySource,
    bool OomKilled,
    long? PeakProcesses,
    CpuTimeSource CpuSource)
{
    /// <summary>Nothing measured.</summary>
    public static ResourceUsage None { get; } = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, null, MemorySource.None, false, null, CpuTimeSource.None);
}

/// <summary>The source of a peak-memory figure.</summary>
public enum MemorySource
{
    /// <summary>Not measured.</summary>
    None,
    /// <summary>cgroup v2 memory.peak.</summary>
    CgroupV2MemoryPeak,
    /// <summary>cgroup v1 memory.max_usage_in_bytes.</summary>
    CgroupV1MaxUsage,
    /// <summary>The largest resident set of any single process (getrusage ru_maxrss): a lower bound.</summary>
    RusageMaxRss,
}

/// <summary>The source of the CPU times.</summary>
public enum CpuTimeSource
{
    /// <summary>Not measured.</summary>
    None,
    /// <summary>The sandbox's cgroup (every thread of every process, including ones still running when it was killed).</summary>
    Cgroup,
    /// <summary>getrusage of the processes init reaped.</summary>
    Rusage,
}

/// <summary>A limit that was enforced, and how.</summary>
/// <param name="Limit">The limit, e.g. "memory".</param>
/// <param name="Mechanism">How, e.g. "cgroup v1 memory.limit_in_bytes=67108864".</param>
public sealed record EnforcedLimit(string Limit, string Mechanism)
{
    /// <inheritdoc />
    public override string ToString() => $"{Limit}: {Mechanism}";
}
