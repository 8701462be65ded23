using Sandbox.Interop;

namespace Sandbox.Tests.Images;

/// <summary>A directory tree as text, one line per node (kind, mode, content or link, overlay xattr), for comparing trees.</summary>
internal static class TreeSnapshot
{
    public static SortedDictionary<string, string> Of(string root, bool withTimes = false)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        using var dir = ConfinedDirectory.Open(root);
        Walk(dir, "", result, withTimes);
        return result;
    }

    private static void Walk(ConfinedDirectory dir, string path, SortedDictionary<string, string> result, bool withTimes)
    {
        foreach (var name in dir.List(path))
        {
            string child = path.Length == 0 ? name : path + "/" + name;
            var status = dir.TryStatus(child)!.Value;
            string full = Path.Combine(dir.Path, child);
            string mode = Convert.ToString(status.Permissions, 8);
            string line = status.Type switch
            {
                FileSystemCalls.SIfDir => $"dir {mode}{Opaque(full)}",
                FileSystemCalls.SIfReg => $"file {mode} {File.ReadAllText(full)}",
                FileSystemCalls.SIfLnk => $"link -> {new FileInfo(full).LinkTarget}",
                FileSystemCalls.SIfChr => $"chr {status.RdevMajor}:{status.RdevMinor}",
                FileSystemCalls.SIfIfo => $"fifo {mode}",
                _ => $"other {status.Type:x}",
            };
            if (withTimes && status.Type != FileSystemCalls.SIfLnk) line += $" @{File.GetLastWriteTimeUtc(full):O}";
            result[child] = line;
            if (status.IsDirectory) Walk(dir, child, result, withTimes);
        }
    }

    private static string Opaque(string path)
    {
        foreach (var name in new[] { "user.overlay.opaque", "trusted.overlay.opaque" })
            if (Xattr.Get(path, name) is { } value)
                return $" {name}={value}";
        return "";
    }
}
