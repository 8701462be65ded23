namespace Sandbox.Cgroups.V2;

/// <summary>The v2 io controller: one io.max line per device.</summary>
internal static class V2IoController
{
    /// <summary>The controller's name in cgroup.controllers.</summary>
    public const string Name = "io";

    /// <summary>Writes each device's limits (one write per device, as the kernel parses one line per write).</summary>
    public static void Apply(ICgroupFileSystem fileSystem, string directory, CgroupLimits limits, List<CgroupEnforcedLimit> enforced)
    {
        foreach (IoDeviceLimit device in limits.Io)
        {
            string line = IoMaxFormat.FormatLine(device);
            CgroupFiles.Write(fileSystem, directory + "/io.max", line, $"set the I/O limits of device {device.Device}");
            enforced.Add(new CgroupEnforcedLimit($"io {device.Device}", $"cgroup v2 io.max '{line}'"));
        }
    }
}
