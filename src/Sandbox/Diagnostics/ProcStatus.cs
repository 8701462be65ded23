namespace Sandbox.Diagnostics;

/// <summary>Reads the <c>Key:\tvalue</c> lines of /proc/self/status.</summary>
internal static class ProcStatus
{
    public const string Path = "/proc/self/status";

    /// <summary>The value of the line <c>{key}:</c>, trimmed; null if there is no such line.</summary>
    public static string? Field(string? status, string key)
    {
        if (status is null)
            return null;
        foreach (var line in status.AsSpan().EnumerateLines())
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].SequenceEqual(key))
                return line[(colon + 1)..].Trim().ToString();
        }
        return null;
    }
}
