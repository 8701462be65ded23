using System.Globalization;
using System.Text;

namespace Sandbox.Cgroups;

/// <summary>A cpuset list (cpuset.cpus, cpuset.mems): "0-3,5,7-8"; the empty string is the empty set.</summary>
internal static class CpuList
{
    /// <summary>The largest index accepted (far above any real machine, small enough to refuse nonsense).</summary>
    public const int MaxIndex = 65535;

    /// <summary>Parses a list; false for anything malformed, reversed ranges or indexes above <see cref="MaxIndex"/>.</summary>
    public static bool TryParse(string? text, out SortedSet<int> set)
    {
        set = [];
        string trimmed = (text ?? "").Trim();
        if (trimmed.Length == 0)
        {
            return true;
        }
        foreach (string part in trimmed.Split(','))
        {
            int dash = part.IndexOf('-', StringComparison.Ordinal);
            string first = dash < 0 ? part : part[..dash];
            string last = dash < 0 ? part : part[(dash + 1)..];
            if (!int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out int from)
                || !int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out int to)
                || from > to || to > MaxIndex)
            {
                set = [];
                return false;
            }
            for (int i = from; i <= to; i++)
            {
                set.Add(i);
            }
        }
        return true;
    }

    /// <summary>Parses a list; <see cref="FormatException"/> otherwise.</summary>
    public static SortedSet<int> Parse(string text) =>
        TryParse(text, out SortedSet<int> set) ? set : throw new FormatException($"Not a cpu list (e.g. 0-3,5): '{text}'.");

    /// <summary>The canonical text: ascending, runs of two or more collapsed to ranges ("0-2,4").</summary>
    public static string Format(IEnumerable<int> indexes)
    {
        int[] sorted = [.. indexes.Distinct().Order()];
        var text = new StringBuilder();
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1)
            {
                j++;
            }
            if (text.Length > 0)
            {
                text.Append(',');
            }
            text.Append(sorted[i].ToString(CultureInfo.InvariantCulture));
            if (j > i)
            {
                text.Append('-').Append(sorted[j].ToString(CultureInfo.InvariantCulture));
            }
            i = j + 1;
        }
        return text.ToString();
    }
}
