namespace Sandbox.IntegrationTests.Support;

/// <summary>Reads what the probe prints: plain lines, or <c>key=value</c> lines.</summary>
internal static class ProbeOutput
{
    /// <summary>The non-empty lines.</summary>
    public static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The <c>key=value</c> lines as a dictionary (a later key wins).</summary>
    public static Dictionary<string, string> Values(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in Lines(text))
        {
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0) values[line[..eq]] = line[(eq + 1)..];
        }
        return values;
    }

    /// <summary>The non-empty lines of captured output.</summary>
    public static string[] Lines(this CapturedOutput output) => Lines(output.Text);

    /// <summary>The <c>key=value</c> lines of captured output.</summary>
    public static Dictionary<string, string> Values(this CapturedOutput output) => Values(output.Text);
}
