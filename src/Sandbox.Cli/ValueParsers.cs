using System.Diagnostics.CodeAnalysis;
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

    /// <summary>The keys of <c>--io-limit</c>, in the order <see cref="FormatIoLimit"/> writes them.</summary>
    public static readonly IReadOnlyList<string> IoLimitKeys = ["rbps", "wbps", "riops", "wiops"];

    /// <summary>
    /// <c>DEVICE:KEY=VALUE[,KEY=VALUE...]</c>: DEVICE is MAJ:MIN or a device path; rbps and wbps are bytes per second
    /// as sizes (<c>1m</c> = 1 MiB/s), riops and wiops whole operations per second; each key at most once.
    /// </summary>
    /// <param name="text">E.g. <c>254:0:wbps=1m,riops=100</c> or <c>/dev/vda:rbps=10m</c>.</param>
    /// <param name="limit">The limit (the library validates the device and resolves it on the host).</param>
    /// <param name="problem">What is wrong, when false.</param>
    public static bool TryParseIoLimit(string text, [NotNullWhen(true)] out SandboxIoLimit? limit, [NotNullWhen(false)] out string? problem)
    {
        limit = null;
        problem = null;
        const string Example = "e.g. 254:0:wbps=1m,riops=100 or /dev/vda:rbps=10m";
        int equals = text.IndexOf('=', StringComparison.Ordinal);
        int colon = equals < 0 ? -1 : text.LastIndexOf(':', equals);
        if (colon <= 0)
        {
            problem = $"--io-limit '{text}' is not DEVICE:KEY=VALUE[,KEY=VALUE...] ({Example}).";
            return false;
        }
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string pair in text[(colon + 1)..].Split(','))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            string key = eq < 0 ? pair : pair[..eq].Trim().ToLowerInvariant();
            string value = eq < 0 ? "" : pair[(eq + 1)..];
            if (!IoLimitKeys.Contains(key))
            {
                problem = $"--io-limit '{text}': '{pair}' is not one of rbps=, wbps=, riops=, wiops= ({Example}).";
                return false;
            }
            if (values.ContainsKey(key))
            {
                problem = $"--io-limit '{text}' sets {key} twice.";
                return false;
            }
            bool isRate = key.EndsWith("bps", StringComparison.Ordinal);
            if (isRate ? !TryParseSize(value, out long number)
                : !long.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out number) || number <= 0)
            {
                problem = isRate
                    ? $"--io-limit '{text}': {key} '{value}' is not a size per second (e.g. 1m for 1 MiB/s)."
                    : $"--io-limit '{text}': {key} '{value}' is not a positive whole number of operations per second.";
                return false;
            }
            values[key] = number;
        }
        limit = new SandboxIoLimit(
            text[..colon],
            values.TryGetValue("rbps", out long rbps) ? rbps : null,
            values.TryGetValue("wbps", out long wbps) ? wbps : null,
            values.TryGetValue("riops", out long riops) ? riops : null,
            values.TryGetValue("wiops", out long wiops) ? wiops : null);
        return true;
    }

    /// <summary>The <c>--io-limit</c> text of <paramref name="limit"/>, figures as plain numbers: <c>254:0:wbps=1048576,riops=100</c>.</summary>
    public static string FormatIoLimit(SandboxIoLimit limit)
    {
        long?[] figures = [limit.ReadBytesPerSecond, limit.WriteBytesPerSecond, limit.ReadOperationsPerSecond, limit.WriteOperationsPerSecond];
        return limit.Device + ":" + string.Join(',', IoLimitKeys.Zip(figures)
            .Where(p => p.Second is not null)
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.First}={p.Second}")));
    }

    /// <summary>SRC or SRC:DST (DST defaults to SRC).</summary>
    public static (string Source, string Target) ParseBind(string text)
    {
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? (text, text) : (text[..colon], text[(colon + 1)..]);
    }
}
