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
        // Written without looking first: the file is missing only without swap accounting, which the write's ENOENT says.
        string swapMax = directory + "/memory.swap.max";
        try
        {
            fileSystem.WriteText(swapMax, "0");
            enforced.Add(new CgroupEnforcedLimit("swap", "cgroup v2 memory.swap.max=0"));
            return;
        }
        catch (CgroupIOException e) when (e.Errno != CgroupIOException.ENOENT)
        {
            throw new CgroupException("turn swap off (writing '0')", swapMax, e.Errno, CgroupFiles.FixFor(e.Errno), e);
        }
        catch (CgroupIOException)
        {
            // No swap accounting: fine only if the host has no swap.
        }
        if (!CgroupFiles.HostHasSwap(fileSystem))
        {
            enforced.Add(new CgroupEnforcedLimit("swap", "none: the host has no swap (/proc/swaps is empty)"));
        }
        else
        {
            throw new CgroupException(
                "turn swap off", swapMax, CgroupIOException.ENOENT,
                "The kernel has no swap accounting (CONFIG_MEMCG_SWAP off, or booted with swapaccount=0): boot with "
                + "swapaccount=1, turn swap off on the host (`swapoff -a`), or allow the sandbox to swap.");
        }
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
