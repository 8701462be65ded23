using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sandbox.Cli;

/// <summary>The <c>--result-json</c> document: the result's fields in camelCase.</summary>
internal sealed record ResultJson(
    SandboxOutcome Outcome,
    int? ExitCode,
    int? Signal,
    double WallTimeMs,
    long StdoutBytes,
    long StderrBytes,
    AppliedIsolation Isolation)
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static ResultJson From(SandboxResult r) =>
        new(r.Outcome, r.ExitCode, r.Signal, Math.Round(r.WallTime.TotalMilliseconds, 3),
            r.StandardOutput.TotalBytes, r.StandardError.TotalBytes, r.Isolation);
}
