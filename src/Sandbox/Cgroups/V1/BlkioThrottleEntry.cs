using System.Globalization;

namespace Sandbox.Cgroups.V1;

/// <summary>
/// One line of a v1 blkio.throttle.{read,write}_{bps,iops}_device file: "MAJ:MIN VALUE". Writing a value of 0 removes
/// the device's limit.
/// </summary>
/// <param name="Device">The device.</param>
/// <param name="Value">Bytes or operations per second.</param>
internal sealed record BlkioThrottleEntry(DeviceNumber Device, long Value)
{
    /// <summary>The four throttle files and what each limits.</summary>
    public static IReadOnlyList<(string File, Func<IoDeviceLimit, long?> Select)> Files { get; } =
    [
        ("blkio.throttle.read_bps_device", l => l.ReadBytesPerSecond),
        ("blkio.throttle.write_bps_device", l => l.WriteBytesPerSecond),
        ("blkio.throttle.read_iops_device", l => l.ReadOperationsPerSecond),
        ("blkio.throttle.write_iops_device", l => l.WriteOperationsPerSecond),
    ];

    /// <summary>Parses a whole file: one entry per non-empty line.</summary>
    public static IReadOnlyList<BlkioThrottleEntry> Parse(string text)
    {
        var entries = new List<BlkioThrottleEntry>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || !DeviceNumber.TryParse(parts[0], out DeviceNumber device)
                || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            {
                throw new FormatException($"Not a blkio throttle line (MAJ:MIN VALUE): '{line}'.");
            }
            entries.Add(new BlkioThrottleEntry(device, value));
        }
        return entries;
    }

    /// <summary>The line to write.</summary>
    public string Format() => string.Create(CultureInfo.InvariantCulture, $"{Device} {Value}");
}
