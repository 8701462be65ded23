namespace Sandbox.Cgroups.V1;

/// <summary>
/// The v1 cpuset controller. A new v1 cpuset cgroup starts with empty cpuset.cpus and cpuset.mems, and the kernel
/// refuses to add a task to it (ENOSPC) until both are set: they are always written, with the limits or else the
/// parent's values.
/// </summary>
internal static class V1CpusetController
{
    /// <summary>The controller's name.</summary>
    public const string Name = "cpuset";

    /// <summary>Writes cpuset.cpus and cpuset.mems: the limits, or the parent's.</summary>
    public static void Apply(ICgroupFileSystem fileSystem, string directory, CgroupLimits limits, List<CgroupEnforcedLimit> enforced)
    {
        string parent = directory[..directory.LastIndexOf('/')];
        Write(fileSystem, directory, parent, "cpuset.cpus", limits.Cpus, "cpus", "set the CPUs", enforced);
        Write(fileSystem, directory, parent, "cpuset.mems", limits.MemoryNodes, "mems", "set the memory nodes", enforced);
    }

    /// <summary>Copies the parent's cpus and mems into a newly created intermediate cgroup.</summary>
    public static void Inherit(ICgroupFileSystem fileSystem, string directory)
    {
        string parent = directory[..directory.LastIndexOf('/')];
        Write(fileSystem, directory, parent, "cpuset.cpus", null, "cpus", "set the CPUs", null);
        Write(fileSystem, directory, parent, "cpuset.mems", null, "mems", "set the memory nodes", null);
    }

    private static void Write(
        ICgroupFileSystem fileSystem, string directory, string parent, string file, string? requested, string limit, string what,
        List<CgroupEnforcedLimit>? enforced)
    {
        string value = requested is not null
            ? CpuList.Format(CpuList.Parse(requested))
            : (CgroupFiles.TryRead(fileSystem, $"{parent}/{file}") ?? "").Trim();
        CgroupFiles.Write(fileSystem, $"{directory}/{file}", value, what);
        if (requested is not null)
        {
            enforced?.Add(new CgroupEnforcedLimit(limit, $"cgroup v1 {file}={value}"));
        }
    }
}
