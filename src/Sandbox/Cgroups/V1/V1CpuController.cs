using System.Globalization;

namespace Sandbox.Cgroups.V1;

/// <summary>The v1 cpu controller: cpu.cfs_period_us, cpu.cfs_quota_us and cpu.shares; cpu.stat's nr_throttled.</summary>
internal static class V1CpuController
{
    /// <summary>The controller's name.</summary>
    public const string Name = "cpu";

    /// <summary>Sets the CFS period and quota, and the shares for the weight.</summary>
    public static void Apply(ICgroupFileSystem fileSystem, string directory, CgroupLimits limits, List<CgroupEnforcedLimit> enforced)
    {
        if (limits.CpuQuota is { } quota)
        {
            string period = CfsQuota.FormatPeriod(quota);
            string value = CfsQuota.FormatQuota(quota);
            CgroupFiles.Write(fileSystem, directory + "/cpu.cfs_period_us", period, "set the CPU period");
            CgroupFiles.Write(fileSystem, directory + "/cpu.cfs_quota_us", value, "set the CPU quota");
            enforced.Add(new CgroupEnforcedLimit("cpu quota", $"cgroup v1 cpu.cfs_quota_us={value} cpu.cfs_period_us={period}"));
        }
        if (limits.CpuWeight is { } weight)
        {
            string shares = CpuShares.FromWeight(weight).ToString(CultureInfo.InvariantCulture);
            CgroupFiles.Write(fileSystem, directory + "/cpu.shares", shares, "set the CPU shares");
            enforced.Add(new CgroupEnforcedLimit("cpu weight", $"cgroup v1 cpu.shares={shares} (weight {weight})"));
        }
    }
}
