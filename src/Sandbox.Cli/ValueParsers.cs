using System.Globalization;

namespace Sandbox.Cli;

/// <summary>Parses the CLI's human-friendly values: durations ("2s", "500ms", "1m") and sizes ("64m", "1g", "4096").</summary>
internal static class ValueParsers
{
    private static readonly (string Suffix, long Ticks)[] DurationUnits =
        [("ms", TimeSpan.TicksPerMillisecond), ("s", TimeSpan.TicksPerSecond), ("m", TimeSpan.TicksPerMinute), ("h", TimeSpan.TicksPerHour)];

    private static readonly (string Suffix, long Bytes)[] SizeUnits =
    [
        ("kib", 1L << 10), ("mib", 1L << 20), ("gib", 1L << 30),
        ("kb", 1L << 10), ("mb", 1L << 20), ("gb", 1L << 30),
        ("k", 1L << 10), ("m", 1L << 20), ("g", 1L << 30), ("b", 1),
    ];

    /// <summary>"2s", "1.5s", "500ms", "1m", "1h", or a plain number of seconds.</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        string t = text.Trim().ToLowerInvariant();
        long scale = TimeSpan.TicksPerSecond;
        foreach (var (suffix, ticks) in DurationUnits.OrderByDescending(u => u.Suffix.Length))
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal) && t.Length > suffix.Length && char.IsDigit(t[^(suffix.Length + 1)]))
            {
                t = t[..^suffix.Length];
                scale = ticks;
                break;
            }
        }
        // Decimal, not double: "1495081.13s" is exactly that many ticks, not one fewer. Bound before scaling.
        if (!decimal.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number)
            || number <= 0 || number > (decimal)(TimeSpan.MaxValue.Ticks / 2) / scale)
            return false;
        long total = (long)decimal.Round(number * scale, MidpointRounding.AwayFromZero);
        if (total <= 0)
            return false;
        value = TimeSpan.FromTicks(total);
        return true;
    }

    /// <summary>"4096", "64k", "64m", "1g", "64MiB"; binary units.</summary>
    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        string t = text.Trim().ToLowerInvariant();
        long scale = 1;
        foreach (var (suffix, unit) in SizeUnits)
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal) && t.Length > suffix.Length)
            {
                t = t[..^suffix.Length];
                scale = unit;
                break;
            }
        }
        // Bound the number before scaling it: a huge one would overflow decimal itself and throw.
        if (!decimal.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number) || number <= 0
            || number > (decimal)long.MaxValue / scale)
            return false;
        decimal total = number * scale;
        if (total > long.MaxValue || total != decimal.Truncate(total))
            return false;
        bytes = (long)total;
        return true;
    }

    /// <summary>SRC or SRC:DST (DST defaults to SRC).</summary>
    public static (string Source, string Target) ParseBind(string text)
    {
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? (text, text) : (text[..colon], text[(colon + 1)..]);
    }
}
