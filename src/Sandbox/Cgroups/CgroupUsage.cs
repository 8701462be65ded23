namespace Sandbox.Cgroups;

/// <summary>What a sandbox cgroup used, as far as the kernel reports it; null where this kernel does not.</summary>
internal sealed record CgroupUsage
{
    /// <summary>Nothing known.</summary>
    public static CgroupUsage Empty { get; } = new();

    /// <summary>Total CPU time of every task that ran in the cgroup (v2 usage_usec; v1 cpuacct.usage, in ns).</summary>
    public TimeSpan? CpuTime { get; init; }

    /// <summary>User CPU time (v2 user_usec; v1 cpuacct.usage_user, or cpuacct.stat's USER_HZ ticks).</summary>
    public TimeSpan? UserCpuTime { get; init; }

    /// <summary>System CPU time (v2 system_usec; v1 cpuacct.usage_sys, or cpuacct.stat's USER_HZ ticks).</summary>
    public TimeSpan? SystemCpuTime { get; init; }

    /// <summary>The peak memory in bytes, from <see cref="PeakMemorySource"/>.</summary>
    public long? PeakMemoryBytes { get; init; }

    /// <summary>Which file <see cref="PeakMemoryBytes"/> came from; <see cref="PeakMemorySource.None"/> means use rusage.</summary>
    public PeakMemorySource PeakMemorySource { get; init; }

    /// <summary>Processes the OOM killer killed in the cgroup (v2 memory.events oom_kill; v1 memory.oom_control oom_kill).</summary>
    public long? OomKills { get; init; }

    /// <summary>Times the memory limit was hit (v2 memory.events max, read anyway for OOM kills; not read on v1).</summary>
    public long? MemoryLimitHits { get; init; }

    /// <summary>The most processes and threads alive at once (pids.peak: Linux 6.1+, v1 and v2 alike); null where the file is missing.</summary>
    public long? PeakProcesses { get; init; }


    /// <summary>CFS periods in which the CPU quota ran out (v2 cpu.stat nr_throttled, read anyway for CPU time; not read on v1).</summary>
    public long? ThrottledPeriods { get; init; }
}
