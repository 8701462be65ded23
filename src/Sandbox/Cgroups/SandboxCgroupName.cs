using System.Globalization;

namespace Sandbox.Cgroups;

/// <summary>
/// The name of a sandbox's cgroup: <c>sandbox-PIDNS-PID-STARTTIME-ID</c>, where PIDNS, PID and STARTTIME are the
/// creating host's <see cref="HostProcessStamp"/> and ID is the caller's sandbox id. A host removes, at start, the
/// <c>sandbox-*</c> cgroups whose host is provably gone: same pid namespace, and no process with that pid and start
/// time. Cgroups of live hosts, of hosts in other pid namespaces, and names that do not parse are left alone.
/// </summary>
internal static class SandboxCgroupName
{
    /// <summary>The prefix of every sandbox cgroup.</summary>
    public const string Prefix = "sandbox-";

    /// <summary>The longest id accepted (cgroup names are file names: 255 bytes at most).</summary>
    public const int MaxIdLength = 64;

    /// <summary>Whether <paramref name="id"/> can be part of a name: 1..64 of [A-Za-z0-9_.-].</summary>
    public static bool IsValidId(string id) =>
        id.Length is > 0 and <= MaxIdLength && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    /// <summary>The cgroup name for sandbox <paramref name="id"/> created by <paramref name="host"/>.</summary>
    public static string Format(HostProcessStamp host, string id)
    {
        if (!IsValidId(id))
        {
            throw new ArgumentException($"A sandbox cgroup id is 1..{MaxIdLength} of [A-Za-z0-9_.-], not '{id}'.", nameof(id));
        }
        return string.Create(CultureInfo.InvariantCulture, $"{Prefix}{host.PidNamespace}-{host.Pid}-{host.StartTime}-{id}");
    }

    /// <summary>Reads a name back; false for anything that is not exactly what <see cref="Format"/> writes.</summary>
    public static bool TryParse(string name, out HostProcessStamp host, out string id)
    {
        host = default;
        id = "";
        if (!name.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        string[] parts = name[Prefix.Length..].Split('-', 4);
        if (parts.Length != 4
            || !ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong pidNamespace)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
            || !ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out ulong start)
            || !IsValidId(parts[3]))
        {
            return false;
        }
        host = new HostProcessStamp(pidNamespace, pid, start);
        id = parts[3];
        return Format(host, id) == name;
    }

    /// <summary>
    /// The sandbox cgroups among <paramref name="names"/> whose creating host is gone; names whose owner cannot
    /// be judged (another PID namespace) go to <paramref name="leftAlone"/>, other names are ignored.
    /// </summary>
    public static IEnumerable<string> OwnedByDeadHosts(
        IEnumerable<string> names, ICgroupFileSystem fileSystem, HostProcessStamp self, ICollection<string> leftAlone)
    {
        foreach (string name in names)
        {
            if (!TryParse(name, out HostProcessStamp owner, out _))
            {
                continue;
            }
            switch (owner.IsAlive(fileSystem, self))
            {
                case false:
                    yield return name;
                    break;
                case null:
                    leftAlone.Add(name);
                    break;
            }
        }
    }
}
