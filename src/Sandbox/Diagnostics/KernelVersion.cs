using System.Globalization;

namespace Sandbox.Diagnostics;

/// <summary>A Linux kernel's version, from its release string (<c>6.8.0-45-generic</c> → 6.8.0).</summary>
internal readonly record struct KernelVersion(int Major, int Minor, int Patch = 0) : IComparable<KernelVersion>
{
    /// <summary>
    /// Reads the leading <c>MAJOR.MINOR[.PATCH]</c> of a release string such as <c>6.18.44-fc-v669</c>,
    /// <c>5.15.0-91-generic</c>, <c>6.8.0-rc3</c>, <c>4.19.112+</c> or <c>6.1</c>; everything after it is ignored.
    /// </summary>
    public static bool TryParse(string? release, out KernelVersion version)
    {
        version = default;
        string text = release?.Trim() ?? "";
        int end = 0;
        while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] == '.'))
            end++;
        string[] parts = text[..end].Split('.');
        if (parts.Length < 2 || !TryParseNumber(parts[0], out int major) || !TryParseNumber(parts[1], out int minor))
            return false;
        int patch = parts.Length > 2 && TryParseNumber(parts[2], out int p) ? p : 0;
        version = new KernelVersion(major, minor, patch);
        return true;
    }

    private static bool TryParseNumber(string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>Whether this version is <paramref name="other"/> or later.</summary>
    public bool IsAtLeast(KernelVersion other) => CompareTo(other) >= 0;

    public int CompareTo(KernelVersion other) =>
        Major != other.Major ? Major.CompareTo(other.Major)
        : Minor != other.Minor ? Minor.CompareTo(other.Minor)
        : Patch.CompareTo(other.Patch);

    public static bool operator <(KernelVersion left, KernelVersion right) => left.CompareTo(right) < 0;

    public static bool operator >(KernelVersion left, KernelVersion right) => left.CompareTo(right) > 0;

    public static bool operator <=(KernelVersion left, KernelVersion right) => left.CompareTo(right) <= 0;

    public static bool operator >=(KernelVersion left, KernelVersion right) => left.CompareTo(right) >= 0;

    public override string ToString() => $"{Major}.{Minor}.{Patch}";
}
