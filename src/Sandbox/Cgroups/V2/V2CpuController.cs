using System.Globalization;

namespace Sandbox.Cgroups.V2;

/// <summary>The v2 cpu controller: cpu.max and cpu.weight; cpu.stat (present in every cgroup) for accounting.</summary>
internal static class V2CpuController
{
    /// <summary>The controller's name in cgroup.controllers.</summary>
    public const string Name = "cpu";

    /// <summary>Sets the CPU quota and weight.</summary>
    public static void Apply(ICgroupFileSystem fileSystem, string directory, CgroupLimits limits, List<CgroupEnforcedLimit> enforced)
    {
        if (limits.CpuQuota is { } quota)
        {
            string value = quota.FormatCpuMax();
            CgroupFiles.Write(fileSystem, directory + "/cpu.max", value, "set the CPU quota");
            enforced.Add(new CgroupEnforcedLimit("cpu quota", $"cgroup v2 cpu.max={value}"));
        }
        if (limits.CpuWeight is { } weight)
        {
            string value = weight.ToString(CultureInfo.InvariantCulture);
            CgroupFiles.Write(fileSystem, directory + "/cpu.weight", value, "set the CPU weight");
            enforced.Add(new CgroupEnforcedLimit("cpu weight", $"cgroup v2 cpu.weight={value}"));
        }
    }

    /// <summary>Adds CPU time (usage_usec, user_usec, system_usec) and throttled periods.</summary>
    public static CgroupUsage ReadUsage(ICgroupFileSystem fileSystem, string directory, CgroupUsage usage)
    {
        if (CgroupFiles.TryRead(fileSystem, directory + "/cpu.stat") is not { } text)
        {
            return usage;
        }
        CpuStat stat = CpuStat.Parse(text);
        return usage with
        {
            CpuTime = TimeSpan.FromMicroseconds(stat.UsageMicroseconds),
            UserCpuTime = TimeSpan.FromMicroseconds(stat.UserMicroseconds),
            SystemCpuTime = TimeSpan.FromMicroseconds(stat.SystemMicroseconds),
            ThrottledPeriods = stat.ThrottledPeriods,
        };
    }
}
