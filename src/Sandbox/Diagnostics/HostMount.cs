using System.Collections.Immutable;
using System.Text;

namespace Sandbox.Diagnostics;

/// <summary>One line of /proc/self/mountinfo (proc(5)), the fields the probe needs, escapes (<c>\040</c>) decoded.</summary>
/// <param name="Root">Field 4: the directory of the file system mounted here (for cgroupfs, the cgroup it shows).</param>
/// <param name="MountPoint">Field 5: where it is mounted.</param>
/// <param name="MountOptions">Field 6: per-mount options (<c>rw</c> or <c>ro</c> first).</param>
/// <param name="FileSystemType">After the <c>-</c> separator: <c>cgroup</c>, <c>cgroup2</c>, <c>overlay</c>, ...</param>
/// <param name="SuperOptions">The last field: per-superblock options (for cgroup v1, the controllers among them).</param>
internal sealed record HostMount(string Root, string MountPoint, string MountOptions, string FileSystemType, string SuperOptions)
{
    public const string MountInfoPath = "/proc/self/mountinfo";

    /// <summary>Whether the mount is read-only (its per-mount options, or the file system's own).</summary>
    public bool IsReadOnly => HasOption(MountOptions, "ro") || HasOption(SuperOptions, "ro");

    /// <summary>The per-superblock options, split on commas.</summary>
    public ImmutableArray<string> SuperOptionList => [.. SuperOptions.Split(',', StringSplitOptions.RemoveEmptyEntries)];

    /// <summary>Every well-formed line of <paramref name="mountInfo"/>; a malformed line is skipped.</summary>
    public static ImmutableArray<HostMount> Parse(string? mountInfo)
    {
        var mounts = ImmutableArray.CreateBuilder<HostMount>();
        foreach (var line in (mountInfo ?? "").Split('\n'))
        {
            // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL FIELDS...] - FSTYPE SOURCE SUPEROPTIONS
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int separator = fields.Length > 6 ? Array.IndexOf(fields, "-", 6) : -1;
            if (separator < 0 || fields.Length < separator + 3)
                continue;
            mounts.Add(new HostMount(
                Unescape(fields[3]), Unescape(fields[4]), fields[5], Unescape(fields[separator + 1]),
                fields.Length > separator + 3 ? Unescape(fields[separator + 3]) : ""));
        }
        return mounts.ToImmutable();
    }

    private static bool HasOption(string options, string option) =>
        options.Split(',').Contains(option, StringComparer.Ordinal);

    // The kernel escapes space, tab, newline and backslash as three octal digits.
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
            return field;
        var text = new StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
            {
                text.Append((char)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0')));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }
        return text.ToString();
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';
}
