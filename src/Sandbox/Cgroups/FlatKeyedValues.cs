using System.Globalization;

namespace Sandbox.Cgroups;

/// <summary>
/// Parses the kernel's flat keyed files, one "KEY VALUE" per line: v2 cpu.stat, memory.events, cgroup.events,
/// pids.events; v1 memory.oom_control, cpuacct.stat, cpu.stat, pids.events.
/// </summary>
internal static class FlatKeyedValues
{
    /// <summary>Every line whose value is an integer; other lines are skipped.</summary>
    public static IReadOnlyDictionary<string, long> Parse(string text)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n'))
        {
            string[] parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2
                && long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            {
                values[parts[0]] = value;
            }
        }
        return values;
    }

    /// <summary>The value of <paramref name="key"/>; <see cref="FormatException"/> naming the file if it is missing.</summary>
    public static long Required(IReadOnlyDictionary<string, long> values, string key, string file) =>
        values.TryGetValue(key, out long value) ? value : throw new FormatException($"{file} has no '{key}' line.");

    /// <summary>The value of <paramref name="key"/>, or null if the kernel does not report it.</summary>
    public static long? Optional(IReadOnlyDictionary<string, long> values, string key) =>
        values.TryGetValue(key, out long value) ? value : null;
}
