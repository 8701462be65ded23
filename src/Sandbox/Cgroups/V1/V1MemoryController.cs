namespace Sandbox.Cgroups.V1;

/// <summary>
/// The v1 memory controller: memory.limit_in_bytes, and memory.memsw.limit_in_bytes (memory + swap) set to the same
/// value to turn swap off; memory.max_usage_in_bytes, memory.oom_control and memory.failcnt for accounting.
/// </summary>
internal static class V1MemoryController
{
    /// <summary>The controller's name.</summary>
    public const string Name = "memory";

    /// <summary>Sets the memory limit, then (swap off) the memory+swap limit to the same value.</summary>
    /// <remarks>The kernel keeps memsw ≥ limit: on a new cgroup both are unlimited, so the limit goes first.</remarks>
    public static void Apply(ICgroupFileSystem fileSystem, string directory, CgroupLimits limits, List<CgroupEnforcedLimit> enforced)
    {
        if (limits.MemoryBytes is not { } bytes)
        {
            return;
        }
        string value = V1MemoryLimit.Format(bytes);
        CgroupFiles.Write(fileSystem, directory + "/memory.limit_in_bytes", value, "set the memory limit");
        enforced.Add(new CgroupEnforcedLimit("memory", $"cgroup v1 memory.limit_in_bytes={value}"));
        if (limits.AllowSwap)
        {
            return;
        }
        CgroupFiles.TurnSwapOff(fileSystem, directory + "/memory.memsw.limit_in_bytes", value,
            $"cgroup v1 memory.memsw.limit_in_bytes={value} (= the memory limit)",
            "The kernel has no swap accounting (booted without swapaccount=1): boot with swapaccount=1, turn swap off "
            + "on the host (`swapoff -a`), or allow the sandbox to swap.", enforced);
    }

    /// <summary>The files <see cref="ReadUsage"/> reads.</summary>
    public static readonly IReadOnlyList<string> UsageFiles = ["memory.max_usage_in_bytes", "memory.oom_control"];

    /// <summary>Adds peak memory (memory.max_usage_in_bytes) and OOM kills (memory.oom_control).</summary>
    public static CgroupUsage ReadUsage(ICgroupFileSystem fileSystem, string directory, CgroupUsage usage)
    {
        if (CgroupFiles.TryReadNumber(fileSystem, directory + "/memory.max_usage_in_bytes") is { } peak)
        {
            usage = usage with { PeakMemoryBytes = peak, PeakMemorySource = PeakMemorySource.CgroupV1MaxUsageInBytes };
        }
        if (CgroupFiles.TryRead(fileSystem, directory + "/memory.oom_control") is { } text)
        {
            usage = usage with { OomKills = OomControl.Parse(text).OomKills };
        }
        return usage;
    }
}
