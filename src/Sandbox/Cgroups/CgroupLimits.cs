namespace Sandbox.Cgroups;

/// <summary>The limits a sandbox cgroup gets. Null means "no limit"; every driver maps them to its version's files.</summary>
internal sealed record CgroupLimits
{
    /// <summary>No limits (accounting only).</summary>
    public static CgroupLimits None { get; } = new();

    /// <summary>Memory in bytes (v2 memory.max; v1 memory.limit_in_bytes).</summary>
    public long? MemoryBytes { get; init; }

    /// <summary>
    /// Whether the sandbox may swap. Off by default: with a memory limit, swap is limited to 0 (v2 memory.swap.max;
    /// v1 memory.memsw.limit_in_bytes = the memory limit), so a memory hog is OOM-killed instead of thrashing.
    /// </summary>
    public bool AllowSwap { get; init; }

    /// <summary>Processes and threads (pids.max).</summary>
    public long? MaxProcesses { get; init; }

    /// <summary>CPU bandwidth (v2 cpu.max; v1 cpu.cfs_quota_us and cpu.cfs_period_us).</summary>
    public CpuQuota? CpuQuota { get; init; }

    /// <summary>CPU weight 1..10000, default 100 (v2 cpu.weight; v1 cpu.shares, scaled).</summary>
    public int? CpuWeight { get; init; }

    /// <summary>The CPUs the sandbox may run on, as a cpu list ("0-1,3"); cpuset.cpus.</summary>
    public string? Cpus { get; init; }

    /// <summary>The memory nodes the sandbox may allocate from ("0"); cpuset.mems.</summary>
    public string? MemoryNodes { get; init; }

    /// <summary>Block I/O limits per device (v2 io.max; v1 blkio.throttle.*).</summary>
    public IReadOnlyList<IoDeviceLimit> Io { get; init; } = [];

    /// <summary>Whether the cpuset controller is needed.</summary>
    public bool NeedsCpuset => Cpus is not null || MemoryNodes is not null;

    /// <summary>Whether the io (v1: blkio) controller is needed.</summary>
    public bool NeedsIo => Io.Count > 0;

    /// <summary>Every problem with the values, each naming the value and the valid range; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MemoryBytes is <= 0)
        {
            problems.Add($"The memory limit must be positive, not {MemoryBytes} bytes.");
        }
        if (MaxProcesses is <= 0)
        {
            problems.Add($"The process limit must be at least 1, not {MaxProcesses}.");
        }
        if (CpuQuota?.Validate() is { } quotaProblem)
        {
            problems.Add(quotaProblem);
        }
        if (CpuWeight is < 1 or > 10_000)
        {
            problems.Add($"The CPU weight must be 1..10000, not {CpuWeight}.");
        }
        if (Cpus is not null && (!CpuList.TryParse(Cpus, out SortedSet<int> cpus) || cpus.Count == 0))
        {
            problems.Add($"The CPU list must be non-empty, like '0-3,5', not '{Cpus}'.");
        }
        if (MemoryNodes is not null && (!CpuList.TryParse(MemoryNodes, out SortedSet<int> nodes) || nodes.Count == 0))
        {
            problems.Add($"The memory node list must be non-empty, like '0', not '{MemoryNodes}'.");
        }
        foreach (IoDeviceLimit io in Io)
        {
            long?[] values = [io.ReadBytesPerSecond, io.WriteBytesPerSecond, io.ReadOperationsPerSecond, io.WriteOperationsPerSecond];
            if (values.Any(v => v is <= 0))
            {
                problems.Add($"The I/O limits of device {io.Device} must be positive.");
            }
        }
        foreach (var duplicate in Io.GroupBy(io => io.Device).Where(g => g.Count() > 1))
        {
            problems.Add($"Device {duplicate.Key} has more than one I/O limit.");
        }
        return problems;
    }
}
