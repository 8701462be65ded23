using System.Globalization;

namespace Sandbox.Cgroups;

/// <summary>
/// Identifies a host process across pid reuse: its pid namespace (the inode of /proc/PID/ns/pid), its pid there, and its
/// start time (field 22 of /proc/PID/stat, clock ticks since boot). Sandbox cgroup names carry the stamp of the host
/// that created them, so a later host can tell which ones a dead host left behind.
/// </summary>
/// <param name="PidNamespace">The pid namespace's inode number (0 if unknown).</param>
/// <param name="Pid">The pid in that namespace.</param>
/// <param name="StartTime">The start time in clock ticks since boot.</param>
internal readonly record struct HostProcessStamp(ulong PidNamespace, int Pid, ulong StartTime)
{
    /// <summary>The stamp of the current process.</summary>
    public static HostProcessStamp ReadCurrent(ICgroupFileSystem fileSystem)
    {
        if (!TryParseStat(fileSystem.ReadText("/proc/self/stat"), out int pid, out ulong start))
        {
            throw new FormatException("/proc/self/stat could not be parsed.");
        }
        return new HostProcessStamp(ParseNamespaceLink(fileSystem.TryReadLink("/proc/self/ns/pid")), pid, start);
    }

    /// <summary>Whether the host with this stamp still runs, as seen by <paramref name="current"/>.</summary>
    /// <returns>
    /// True if alive, false if gone (or its pid now belongs to a newer process), null if it cannot be told: another pid
    /// namespace, or the namespace is unknown. Only false makes its cgroups stale.
    /// </returns>
    public bool? IsAlive(ICgroupFileSystem fileSystem, HostProcessStamp current)
    {
        if (PidNamespace == 0 || PidNamespace != current.PidNamespace)
        {
            return null;
        }
        if (Pid == current.Pid)
        {
            return StartTime == current.StartTime;
        }
        string? stat = fileSystem.TryReadText($"/proc/{Pid.ToString(CultureInfo.InvariantCulture)}/stat");
        if (stat is null)
        {
            return false;
        }
        return TryParseStat(stat, out int _, out ulong start) ? start == StartTime : null;
    }

    /// <summary>Reads the pid (field 1) and start time (field 22) from /proc/PID/stat; the command (field 2) may hold spaces and parentheses.</summary>
    public static bool TryParseStat(string text, out int pid, out ulong startTime)
    {
        pid = 0;
        startTime = 0;
        int open = text.IndexOf(" (", StringComparison.Ordinal);
        int close = text.LastIndexOf(')');
        if (open <= 0 || close < open
            || !int.TryParse(text.AsSpan(0, open), NumberStyles.None, CultureInfo.InvariantCulture, out pid))
        {
            return false;
        }
        // Fields after the command start at field 3 (state); field 22 is the 20th of them.
        string[] rest = text[(close + 1)..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return rest.Length >= 20 && ulong.TryParse(rest[19], NumberStyles.None, CultureInfo.InvariantCulture, out startTime);
    }

    /// <summary>The inode in a namespace link such as <c>pid:[4026531836]</c>, or 0.</summary>
    public static ulong ParseNamespaceLink(string? link)
    {
        if (link is null)
        {
            return 0;
        }
        int open = link.IndexOf('[', StringComparison.Ordinal);
        int close = link.IndexOf(']', StringComparison.Ordinal);
        return open >= 0 && close > open + 1
            && ulong.TryParse(link.AsSpan(open + 1, close - open - 1), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode)
            ? inode
            : 0;
    }
}
