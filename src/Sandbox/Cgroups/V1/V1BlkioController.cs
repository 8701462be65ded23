namespace Sandbox.Cgroups.V1;

/// <summary>The v1 blkio controller's throttling: blkio.throttle.{read,write}_{bps,iops}_device, one line per device.</summary>
internal static class V1BlkioController
{
    /// <summary>The controller's name.</summary>
    public const string Name = "blkio";

    /// <summary>Writes each device's limits, one write per file and device.</summary>
    public static void Apply(ICgroupFileSystem fileSystem, string directory, CgroupLimits limits, List<CgroupEnforcedLimit> enforced)
    {
        foreach (IoDeviceLimit device in limits.Io)
        {
            var parts = new List<string>();
            foreach ((string file, Func<IoDeviceLimit, long?> select) in BlkioThrottleEntry.Files)
            {
                if (select(device) is { } value)
                {
                    string line = new BlkioThrottleEntry(device.Device, value).Format();
                    CgroupFiles.Write(fileSystem, $"{directory}/{file}", line, $"set the I/O limits of device {device.Device}");
                    parts.Add($"{file} '{line}'");
                }
            }
            enforced.Add(new CgroupEnforcedLimit($"io {device.Device}", "cgroup v1 " + string.Join(", ", parts)));
        }
    }
}
