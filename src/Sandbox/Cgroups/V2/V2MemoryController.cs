using System.Globalization;

namespace Sandbox.Cgroups.V2;

/// <summary>The v2 memory controller: memory.max, memory.swap.max; memory.peak and memory.events for accounting.</summary>
internal static class V2MemoryController
{
    /// <summary>The controller's name in cgroup.controllers.</summary>
    public const string Name = "memory";

    /// <summary>Sets the memory limit and turns swap off unless allowed.</summary>
    public static void Apply(ICgroupFileSystem fileSystem, string directory, CgroupLimits limits, List<CgroupEnforcedLimit> enforced)
    {
        if (limits.MemoryBytes is not { } bytes)
        {
            return;
        }
        string max = bytes.ToString(CultureInfo.InvariantCulture);
        CgroupFiles.Write(fileSystem, directory + "/memory.max", max, "set the memory limit");
        enforced.Add(new CgroupEnforcedLimit("memory", $"cgroup v2 memory.max={max}"));
        if (limits.AllowSwap)
        {
            return;
        }
        CgroupFiles.TurnSwapOff(fileSystem, directory + "/memory.swap.max", "0", "cgroup v2 memory.swap.max=0",
            "The kernel has no swap accounting (CONFIG_MEMCG_SWAP off, or booted with swapaccount=0): boot with "
            + "swapaccount=1, turn swap off on the host (`swapoff -a`), or allow the sandbox to swap.", enforced);
    }

    /// <summary>Adds peak memory (memory.peak, Linux 5.19+), OOM kills and limit hits (memory.events).</summary>
    public static CgroupUsage ReadUsage(ICgroupFileSystem fileSystem, string directory, CgroupUsage usage)
    {
        if (CgroupFiles.TryReadNumber(fileSystem, directory + "/memory.peak") is { } peak)
        {
            usage = usage with { PeakMemoryBytes = peak, PeakMemorySource = PeakMemorySource.CgroupV2MemoryPeak };
        }
        if (CgroupFiles.TryRead(fileSystem, directory + "/memory.events") is { } text)
        {
            MemoryEvents events = MemoryEvents.Parse(text);
            usage = usage with { OomKills = events.OomKill, MemoryLimitHits = events.Max };
        }
        return usage;
    }
}
