using System.Text;

namespace Sandbox.RootFs;

/// <summary>
/// Lexical normalisation of paths, for paths inside the sandbox and for host paths that will be opened
/// without following symlinks (so that the lexical answer is the kernel's answer).
/// </summary>
/// <remarks>
/// The result is absolute, has no empty, "." or ".." components and no trailing slash. ".." never climbs
/// above the root: it is clamped there, as RESOLVE_IN_ROOT does. Normalising twice gives the same path.
/// </remarks>
internal static class SandboxPath
{
    public const int MaxLength = 4000;

    /// <summary>Normalises <paramref name="path"/>; relative paths are taken from the root.</summary>
    public static string Normalize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == ".") continue;
            if (part == "..")
            {
                if (parts.Count > 0) parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        return "/" + string.Join('/', parts);
    }

    /// <summary>The normalised path without its leading slash: how the launcher names paths beneath the new root.</summary>
    public static string Relative(string normalized) => normalized.Length <= 1 ? "." : normalized[1..];

    /// <summary>The ancestors of a normalised path, outermost first, without the root: /a/b/c → /a, /a/b.</summary>
    public static IEnumerable<string> Ancestors(string normalized)
    {
        for (int i = 1; i < normalized.Length; i++)
            if (normalized[i] == '/')
                yield return normalized[..i];
    }

    /// <summary>True if <paramref name="path"/> is <paramref name="ancestor"/> or lies beneath it (both normalised).</summary>
    public static bool IsWithin(string path, string ancestor) =>
        ancestor == "/" || path == ancestor || path.StartsWith(ancestor + "/", StringComparison.Ordinal);

    /// <summary>Why <paramref name="path"/> cannot name a file, or null if it can.</summary>
    public static string? Problem(string? path, bool mustBeAbsolute)
    {
        if (string.IsNullOrEmpty(path)) return "is empty";
        if (path.Contains('\0', StringComparison.Ordinal)) return "contains a NUL character";
        if (mustBeAbsolute && path[0] != '/') return "is not absolute (it must start with '/')";
        if (Encoding.UTF8.GetByteCount(path) > MaxLength) return $"is longer than {MaxLength} bytes";
        foreach (var part in path.Split('/'))
            if (Encoding.UTF8.GetByteCount(part) > 255) return "has a component longer than 255 bytes";
        return null;
    }
}
