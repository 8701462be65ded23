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
    double CpuTimeMs,
    double UserTimeMs,
    double SystemTimeMs,
    long? PeakMemoryBytes,
    MemorySource MemorySource,
    CpuTimeSource CpuTimeSource,
    bool OomKilled,
    long? PeakProcesses,
    IReadOnlyList<EnforcedLimit> Enforced,
    AppliedIsolation Isolation)
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static ResultJson From(SandboxResult r) =>
        new(r.Outcome, r.ExitCode, r.Signal, Math.Round(r.WallTime.TotalMilliseconds, 3),
            r.StandardOutput.TotalBytes, r.StandardError.TotalBytes,
            Ms(r.Usage.CpuTime), Ms(r.Usage.UserCpuTime), Ms(r.Usage.SystemCpuTime),
            r.Usage.PeakMemoryBytes, r.Usage.MemorySource, r.Usage.CpuSource, r.Usage.OomKilled, r.Usage.PeakProcesses,
            r.Enforced, r.Isolation);

    private static double Ms(TimeSpan t) => Math.Round(t.TotalMilliseconds, 3);
}
