namespace Sandbox.Cgroups;

/// <summary>Where a sandbox's peak memory figure came from.</summary>
internal enum PeakMemorySource
{
    /// <summary>The cgroup could not tell (v2 before Linux 5.19, or no memory controller): use getrusage's ru_maxrss.</summary>
    None,

    /// <summary>v2 memory.peak: the cgroup's high-water mark of memory.current.</summary>
    CgroupV2MemoryPeak,

    /// <summary>v1 memory.max_usage_in_bytes.</summary>
    CgroupV1MaxUsageInBytes,
}
