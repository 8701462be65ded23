using System.Text;

namespace Sandbox.Images.Layers;

/// <summary>
/// A tar entry's name made into a path relative to the layer directory, or the reason it cannot be one.
/// Leading "./" and repeated slashes are accepted (tar writes them); an absolute path, a ".." component, a
/// NUL or a name past the limits is rejected, never repaired: a layer that tries those is hostile or broken.
/// </summary>
internal static class LayerEntryPath
{
    /// <summary>The relative path ("" for the layer's root, "a/b" otherwise), or the problem and a sentence about it.</summary>
    public static bool TryNormalize(string name, LayerLimits limits, out string relative, out LayerProblem problem, out string reason)
    {
        relative = "";
        problem = LayerProblem.InvalidPath;
        if (string.IsNullOrEmpty(name))
        {
            reason = "the name is empty";
            return false;
        }
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            reason = "the name contains a NUL character";
            return false;
        }
        if (name[0] == '/')
        {
            problem = LayerProblem.AbsolutePath;
            reason = "the path is absolute; layer paths are relative to the layer's root";
            return false;
        }
        if (Encoding.UTF8.GetByteCount(name) > limits.MaxPathBytes)
        {
            problem = LayerProblem.PathTooLong;
            reason = $"the path is longer than {limits.MaxPathBytes} bytes";
            return false;
        }
        var builder = new StringBuilder(name.Length);
        foreach (var part in name.Split('/'))
        {
            if (part.Length == 0 || part == ".") continue;
            if (part == "..")
            {
                problem = LayerProblem.PathTraversal;
                reason = "the path has a '..' component, which could climb out of the layer";
                return false;
            }
            if (Encoding.UTF8.GetByteCount(part) > limits.MaxNameBytes)
            {
                problem = LayerProblem.PathTooLong;
                reason = $"a component is longer than {limits.MaxNameBytes} bytes";
                return false;
            }
            if (builder.Length > 0) builder.Append('/');
            builder.Append(part);
        }
        relative = builder.ToString();
        reason = "";
        return true;
    }

    /// <summary>The ancestors of a relative path, nearest last: "a/b/c" → "a", "a/b".</summary>
    public static IEnumerable<string> Ancestors(string relative)
    {
        for (int i = 0; i < relative.Length; i++)
            if (relative[i] == '/')
                yield return relative[..i];
    }

    /// <summary>Joins a parent and a child name ("" is the root).</summary>
    public static string Join(string parent, string name) => parent.Length == 0 ? name : parent + "/" + name;

    /// <summary>True if <paramref name="path"/> is <paramref name="ancestor"/> or beneath it.</summary>
    public static bool IsWithin(string path, string ancestor) =>
        ancestor.Length == 0 || path == ancestor ||
        (path.Length > ancestor.Length && path[ancestor.Length] == '/' && path.StartsWith(ancestor, StringComparison.Ordinal));
}
