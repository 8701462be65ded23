using System.Globalization;

namespace Sandbox.Diagnostics;

/// <summary>User and group names from /etc/passwd and /etc/group, for fixes that name them.</summary>
internal static class EtcNames
{
    public static string? UserName(IHostFiles files, uint uid) => NameOf(files.TryReadText("/etc/passwd"), uid);

    public static string? GroupName(IHostFiles files, uint gid) => NameOf(files.TryReadText("/etc/group"), gid);

    // NAME:PASSWORD:ID:... — the third field is the id.
    private static string? NameOf(string? table, uint id)
    {
        foreach (var line in (table ?? "").Split('\n'))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint found) && found == id)
                return fields[0];
        }
        return null;
    }
}
