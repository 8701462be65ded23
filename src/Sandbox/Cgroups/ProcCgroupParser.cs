using System.Globalization;

namespace Sandbox.Cgroups;

/// <summary>Parses /proc/self/cgroup (cgroups(7)).</summary>
internal static class ProcCgroupParser
{
    /// <summary>Every well-formed line.</summary>
    public static IReadOnlyList<ProcCgroupEntry> Parse(string text)
    {
        var entries = new List<ProcCgroupEntry>();
        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine.TrimEnd('\r');
            int first = line.IndexOf(':', StringComparison.Ordinal);
            int second = first < 0 ? -1 : line.IndexOf(':', first + 1);
            if (second < 0
                || !int.TryParse(line.AsSpan(0, first), NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            {
                continue;
            }
            string[] controllers = line[(first + 1)..second].Split(',', StringSplitOptions.RemoveEmptyEntries);
            entries.Add(new ProcCgroupEntry(id, controllers, line[(second + 1)..]));
        }
        return entries;
    }
}
