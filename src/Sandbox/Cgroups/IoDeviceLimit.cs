namespace Sandbox.Cgroups;

/// <summary>Block I/O limits for one device (v2 io.max; v1 blkio.throttle.*_device). Null means no limit.</summary>
/// <param name="Device">The device's MAJ:MIN.</param>
/// <param name="ReadBytesPerSecond">rbps / read_bps_device.</param>
/// <param name="WriteBytesPerSecond">wbps / write_bps_device.</param>
/// <param name="ReadOperationsPerSecond">riops / read_iops_device.</param>
/// <param name="WriteOperationsPerSecond">wiops / write_iops_device.</param>
internal sealed record IoDeviceLimit(
    DeviceNumber Device,
    long? ReadBytesPerSecond = null,
    long? WriteBytesPerSecond = null,
    long? ReadOperationsPerSecond = null,
    long? WriteOperationsPerSecond = null);
