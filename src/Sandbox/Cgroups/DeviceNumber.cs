using System.Globalization;

namespace Sandbox.Cgroups;

/// <summary>A block device's MAJ:MIN, as io.max and blkio.throttle.* name it.</summary>
/// <param name="Major">The major number.</param>
/// <param name="Minor">The minor number.</param>
internal readonly record struct DeviceNumber(uint Major, uint Minor)
{
    /// <summary>Parses "MAJ:MIN".</summary>
    public static bool TryParse(string? text, out DeviceNumber device)
    {
        device = default;
        string[] parts = (text ?? "").Trim().Split(':');
        if (parts.Length == 2
            && uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out uint major)
            && uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out uint minor))
        {
            device = new(major, minor);
            return true;
        }
        return false;
    }

    /// <summary>Parses "MAJ:MIN"; <see cref="FormatException"/> otherwise.</summary>
    public static DeviceNumber Parse(string text) =>
        TryParse(text, out DeviceNumber device) ? device : throw new FormatException($"Not a device number (MAJ:MIN): '{text}'.");

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Major}:{Minor}");
}
