using System.Globalization;

namespace Sandbox.Images;

/// <summary>
/// Turns an image config's <c>User</c> ("uid", "uid:gid", "name", "name:group", "uid:group"...) into ids, looking
/// names up in the image's own /etc/passwd and /etc/group. Pure: the files are read through a callback.
/// </summary>
internal static class ImageUser
{
    /// <summary>The ids, or a problem naming the user and the fix; (null, null) when the image names no user.</summary>
    /// <param name="user">The config's User.</param>
    /// <param name="readImageFile">Reads a file of the image by its path relative to the root ("etc/passwd"), or null if absent.</param>
    public static (SandboxIdentity? Identity, string? Problem) Resolve(string? user, Func<string, string?> readImageFile)
    {
        if (string.IsNullOrWhiteSpace(user)) return (null, null);
        int colon = user.IndexOf(':', StringComparison.Ordinal);
        string userPart = colon < 0 ? user : user[..colon];
        string? groupPart = colon < 0 ? null : user[(colon + 1)..];

        uint uid;
        uint? primaryGid = null;
        if (TryParseId(userPart, out uint numericUid))
        {
            uid = numericUid;
            var entry = FindEntry(readImageFile("etc/passwd"), fields => fields[2] == userPart);
            if (entry is not null && TryParseId(entry[3], out uint g)) primaryGid = g;
        }
        else
        {
            var entry = FindEntry(readImageFile("etc/passwd"), fields => fields[0] == userPart);
            if (entry is null || !TryParseId(entry[2], out uid) || !TryParseId(entry[3], out uint g))
                return (null, $"The image's user '{user}' names '{userPart}', which the image's /etc/passwd does not list: override it with WithUser(uid, gid).");
            primaryGid = g;
        }

        uint gid;
        if (groupPart is null)
            gid = primaryGid ?? uid;
        else if (TryParseId(groupPart, out uint numericGid))
            gid = numericGid;
        else
        {
            var group = FindEntry(readImageFile("etc/group"), fields => fields[0] == groupPart, minFields: 3);
            if (group is null || !TryParseId(group[2], out gid))
                return (null, $"The image's user '{user}' names group '{groupPart}', which the image's /etc/group does not list: override it with WithUser(uid, gid).");
        }
        return (new SandboxIdentity(uid, gid), null);
    }

    private static bool TryParseId(string text, out uint id) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id != uint.MaxValue;

    private static string[]? FindEntry(string? file, Func<string[], bool> match, int minFields = 4)
    {
        if (file is null) return null;
        foreach (var line in file.Split('\n'))
        {
            var fields = line.TrimEnd('\r').Split(':');
            if (fields.Length >= minFields && match(fields)) return fields;
        }
        return null;
    }
}
