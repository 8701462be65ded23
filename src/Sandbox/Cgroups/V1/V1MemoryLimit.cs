using System.Globalization;

namespace Sandbox.Cgroups.V1;

/// <summary>
/// v1 memory.limit_in_bytes and memory.memsw.limit_in_bytes. The kernel rounds a limit down to whole pages and shows
/// "no limit" as the largest page multiple below 2^63 (9223372036854771712 with 4 KiB pages); <c>-1</c> writes it.
/// </summary>
internal static class V1MemoryLimit
{
    /// <summary>What to write for "no limit".</summary>
    public const string UnlimitedText = "-1";

    /// <summary>
    /// Values at or above this are "no limit": long.MaxValue rounded down to any page size up to 1 MiB.
    /// </summary>
    public const long UnlimitedThreshold = long.MaxValue - (1L << 20) + 1;

    /// <summary>Parses the file: the limit in bytes, or null for no limit (also accepts -1).</summary>
    public static bool TryParse(string? text, out long? limit)
    {
        limit = null;
        string trimmed = (text ?? "").Trim();
        if (trimmed == UnlimitedText)
        {
            return true;
        }
        if (!long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out long bytes))
        {
            return false;
        }
        limit = bytes >= UnlimitedThreshold ? null : bytes;
        return true;
    }

    /// <summary>Parses the file; <see cref="FormatException"/> otherwise.</summary>
    public static long? Parse(string text) =>
        TryParse(text, out long? limit) ? limit : throw new FormatException($"Not a v1 memory limit: '{text.Trim()}'.");

    /// <summary>The text to write: bytes, or -1 for no limit.</summary>
    public static string Format(long? limit) => limit switch
    {
        null => UnlimitedText,
        < 0 => throw new ArgumentOutOfRangeException(nameof(limit), limit, "A memory limit is not negative."),
        { } bytes => bytes.ToString(CultureInfo.InvariantCulture),
    };
}
