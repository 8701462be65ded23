using System.Globalization;

namespace Sandbox.Cgroups.V2;

/// <summary>
/// v2 io.max lines: "MAJ:MIN rbps=N wbps=N riops=N wiops=N", each value a number or <c>max</c>. Reading lists only
/// devices with a limit; a write may name any subset of the keys.
/// </summary>
internal static class IoMaxFormat
{
    /// <summary>Parses one line; keys may come in any order and be missing (no limit).</summary>
    public static bool TryParseLine(string? line, out IoDeviceLimit? limit)
    {
        limit = null;
        string[] parts = (line ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || !DeviceNumber.TryParse(parts[0], out DeviceNumber device))
        {
            return false;
        }
        var result = new IoDeviceLimit(device);
        foreach (string part in parts.Skip(1))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !CgroupLimitValue.TryParse(part[(equals + 1)..], out CgroupLimitValue value))
            {
                return false;
            }
            switch (part[..equals])
            {
                case "rbps": result = result with { ReadBytesPerSecond = value.Limit }; break;
                case "wbps": result = result with { WriteBytesPerSecond = value.Limit }; break;
                case "riops": result = result with { ReadOperationsPerSecond = value.Limit }; break;
                case "wiops": result = result with { WriteOperationsPerSecond = value.Limit }; break;
                default: return false;
            }
        }
        limit = result;
        return true;
    }

    /// <summary>Parses the whole file: one <see cref="IoDeviceLimit"/> per non-empty line.</summary>
    public static IReadOnlyList<IoDeviceLimit> Parse(string text)
    {
        var limits = new List<IoDeviceLimit>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            limits.Add(TryParseLine(line, out IoDeviceLimit? limit) ? limit! : throw new FormatException($"Not an io.max line: '{line}'."));
        }
        return limits;
    }

    /// <summary>The line to write: every key, <c>max</c> for no limit (which also clears an earlier limit).</summary>
    public static string FormatLine(IoDeviceLimit limit) => string.Create(
        CultureInfo.InvariantCulture,
        $"{limit.Device} rbps={Value(limit.ReadBytesPerSecond)} wbps={Value(limit.WriteBytesPerSecond)} "
        + $"riops={Value(limit.ReadOperationsPerSecond)} wiops={Value(limit.WriteOperationsPerSecond)}");

    private static string Value(long? value) => new CgroupLimitValue(value).Format();
}
