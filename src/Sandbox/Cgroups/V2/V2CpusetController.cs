namespace Sandbox.Cgroups.V2;

/// <summary>The v2 cpuset controller: cpuset.cpus and cpuset.mems (empty means "the parent's").</summary>
internal static class V2CpusetController
{
    /// <summary>The controller's name in cgroup.controllers.</summary>
    public const string Name = "cpuset";

    /// <summary>Pins the sandbox to CPUs and memory nodes.</summary>
    public static void Apply(ICgroupFileSystem fileSystem, string directory, CgroupLimits limits, List<CgroupEnforcedLimit> enforced)
    {
        if (limits.Cpus is { } cpus)
        {
            string value = CpuList.Format(CpuList.Parse(cpus));
            CgroupFiles.Write(fileSystem, directory + "/cpuset.cpus", value, "set the CPUs");
            enforced.Add(new CgroupEnforcedLimit("cpus", $"cgroup v2 cpuset.cpus={value}"));
        }
        if (limits.MemoryNodes is { } mems)
        {
            string value = CpuList.Format(CpuList.Parse(mems));
            CgroupFiles.Write(fileSystem, directory + "/cpuset.mems", value, "set the memory nodes");
            enforced.Add(new CgroupEnforcedLimit("mems", $"cgroup v2 cpuset.mems={value}"));
        }
    }
}
