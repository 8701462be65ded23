using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sandbox.Cli;

/// <summary>The <c>--result-json</c> document: the result's fields in camelCase.</summary>
/// <remarks>
/// The output figures are null when the program had the terminal's own stdout and stderr (no <c>--output-limit</c>):
/// the CLI did not see them. With <c>--output-limit</c>, <c>stdoutBytes</c> is what the program wrote (as far as it was
/// read before the sandbox died) and <c>stdoutForwardedBytes</c> what the CLI passed on: at most the limit.
/// <c>peakPids</c> is the cgroup's pids.peak (Linux 6.1+, v1 and v2), null without a cgroup or on older kernels.
/// </remarks>
internal sealed record ResultJson(
    SandboxOutcome Outcome,
    int? ExitCode,
    int? Signal,
    double WallTimeMs,
    long? StdoutBytes,
    long? StdoutForwardedBytes,
    bool StdoutTruncated,
    long? StderrBytes,
    long? StderrForwardedBytes,
    bool StderrTruncated,
    double CpuTimeMs,
    double UserTimeMs,
    double SystemTimeMs,
    long? PeakMemoryBytes,
    MemorySource MemorySource,
    CpuTimeSource CpuTimeSource,
    bool OomKilled,
    long? PeakPids,
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
            Seen(r.StandardOutput)?.TotalBytes, r.StandardOutput.ForwardedBytes, r.StandardOutput.Truncated,
            Seen(r.StandardError)?.TotalBytes, r.StandardError.ForwardedBytes, r.StandardError.Truncated,
            Ms(r.Usage.CpuTime), Ms(r.Usage.UserCpuTime), Ms(r.Usage.SystemCpuTime),
            r.Usage.PeakMemoryBytes, r.Usage.MemorySource, r.Usage.CpuSource, r.Usage.OomKilled, r.Usage.PeakProcesses,
            r.Enforced, r.Isolation);

    /// <summary>The stream if the CLI read it (forwarded), null if the program wrote to the terminal's own.</summary>
    private static CapturedOutput? Seen(CapturedOutput output) => output.Forwarded ? output : null;

    private static double Ms(TimeSpan t) => Math.Round(t.TotalMilliseconds, 3);
}
