namespace Sandbox.Cgroups;

/// <summary>
/// The pids controller, the same files in v1 and v2: pids.max ("max" or a number); pids.peak (v1 where the
/// kernel has it, v2 since Linux 6.1) and pids.events for accounting.
/// </summary>
internal static class PidsController
{
    /// <summary>The controller's name.</summary>
    public const string Name = "pids";

    /// <summary>Sets the limit on processes and threads.</summary>
    public static void Apply(ICgroupFileSystem fileSystem, string directory, CgroupLimits limits, List<CgroupEnforcedLimit> enforced, int version)
    {
        if (limits.MaxProcesses is not { } max)
        {
            return;
        }
        string value = CgroupLimitValue.Of(max).Format();
        CgroupFiles.Write(fileSystem, directory + "/pids.max", value, "set the process limit");
        enforced.Add(new CgroupEnforcedLimit("pids", $"cgroup v{version} pids.max={value}"));
    }

    /// <summary>The files <see cref="ReadUsage"/> reads.</summary>
    public static readonly IReadOnlyList<string> UsageFiles = ["pids.peak"];

    /// <summary>Adds the peak number of tasks (pids.peak, where the kernel has it).</summary>
    public static CgroupUsage ReadUsage(ICgroupFileSystem fileSystem, string directory, CgroupUsage usage)
    {
        if (CgroupFiles.TryReadNumber(fileSystem, directory + "/pids.peak") is { } peak)
        {
            usage = usage with { PeakProcesses = peak };
        }
        return usage;
    }
}
