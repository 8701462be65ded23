using System.Globalization;
using System.Text;

namespace Sandbox.Cgroups;

/// <summary>Parses /proc/self/mountinfo.</summary>
internal static class MountInfoParser
{
    /// <summary>Every well-formed line; malformed lines are skipped (the kernel does not write any).</summary>
    public static IReadOnlyList<MountInfoEntry> Parse(string text)
    {
        var entries = new List<MountInfoEntry>();
        foreach (string rawLine in text.Split('\n'))
        {
            if (TryParseLine(rawLine, out MountInfoEntry? entry))
            {
                entries.Add(entry);
            }
        }
        return entries;
    }

    /// <summary>
    /// Parses "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS".
    /// </summary>
    public static bool TryParseLine(string line, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MountInfoEntry? entry)
    {
        entry = null;
        string[] fields = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int separator = fields.Length < 7 ? -1 : Array.IndexOf(fields, "-", 6);
        if (separator < 0 || fields.Length < separator + 3)
        {
            return false;
        }
        if (!int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out int id)
            || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int parent))
        {
            return false;
        }
        entry = new MountInfoEntry(
            id,
            parent,
            fields[2],
            Unescape(fields[3]),
            Unescape(fields[4]),
            fields[5],
            Unescape(fields[separator + 1]),
            Unescape(fields[separator + 2]),
            fields.Length > separator + 3 ? Unescape(fields[separator + 3]) : "");
        return true;
    }

    /// <summary>Decodes the kernel's octal escapes for space, tab, newline and backslash (\040 \011 \012 \134).</summary>
    public static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }
        var builder = new StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length
                && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
            {
                builder.Append((char)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0')));
                i += 3;
            }
            else
            {
                builder.Append(field[i]);
            }
        }
        return builder.ToString();
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';
}
