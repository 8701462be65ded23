using System.Globalization;

namespace Sandbox;

/// <summary>
/// Block I/O limits for one device (cgroup v2 io.max; v1 blkio.throttle.*_device). Null means no limit on that figure;
/// at least one must be set.
/// </summary>
/// <param name="Device">
/// A whole disk, as <c>MAJOR:MINOR</c> (e.g. <c>254:0</c>; see <c>lsblk</c> or /sys/dev/block) or as the path of its
/// device node (<c>/dev/vda</c>, or a symlink to it such as <c>/dev/disk/by-id/...</c>), resolved on the host at start.
/// The kernel throttles whole disks only: a partition is refused, naming its disk.
/// </param>
/// <param name="ReadBytesPerSecond">Read bandwidth (rbps / read_bps_device).</param>
/// <param name="WriteBytesPerSecond">Write bandwidth (wbps / write_bps_device).</param>
/// <param name="ReadOperationsPerSecond">Read operations per second (riops / read_iops_device).</param>
/// <param name="WriteOperationsPerSecond">Write operations per second (wiops / write_iops_device).</param>
/// <remarks>
/// cgroup v1 throttles only I/O that reaches the disk on the sandbox's behalf: direct I/O (O_DIRECT) and reads, not
/// buffered writes, which the kernel writes back later on nobody's account. cgroup v2 charges buffered writeback too.
/// </remarks>
public sealed record SandboxIoLimit(
    string Device,
    long? ReadBytesPerSecond = null,
    long? WriteBytesPerSecond = null,
    long? ReadOperationsPerSecond = null,
    long? WriteOperationsPerSecond = null)
{
    /// <summary>Every problem with this limit, each naming the value and the fix; empty when valid.</summary>
    internal IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Device) || !(IsDeviceNumber(Device) || Device.StartsWith('/')))
            yield return $"I/O limit device '{Device}' is neither MAJOR:MINOR (e.g. 254:0, see lsblk) nor the absolute path of a block device (e.g. /dev/vda).";
        (string Name, long? Value)[] rates =
        [
            ("read bytes per second", ReadBytesPerSecond), ("write bytes per second", WriteBytesPerSecond),
            ("read operations per second", ReadOperationsPerSecond), ("write operations per second", WriteOperationsPerSecond),
        ];
        if (rates.All(r => r.Value is null))
            yield return $"I/O limit on '{Device}' limits nothing: set at least one of the read/write bytes or operations per second.";
        foreach (var (name, value) in rates.Where(r => r.Value is <= 0))
            yield return $"I/O limit on '{Device}': {name} {value} must be positive.";
    }

    /// <summary>Whether <paramref name="text"/> is MAJOR:MINOR.</summary>
    internal static bool IsDeviceNumber(string text)
    {
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon > 0
            && uint.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out _)
            && uint.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _);
    }
}
