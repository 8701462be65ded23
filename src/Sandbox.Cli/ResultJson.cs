using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Sandbox.Cli;

/// <summary>The <c>--result-json</c> document: the result's fields in camelCase.</summary>
/// <remarks>
/// The output figures are null when the program had the terminal's own stdout and stderr (no <c>--output-limit</c>):
/// the CLI did not see them. With <c>--output-limit</c>, <c>stdoutBytes</c> is what the program wrote (as far as it was
/// read before the sandbox died) and <c>stdoutForwardedBytes</c> what the CLI passed on: at most the limit.
/// <c>peakPids</c> is the cgroup's pids.peak (Linux 6.1+, v1 and v2), null without a cgroup or on older kernels.
/// <c>seccomp</c> names the policy (default, judge, unconfined, or the profile's full path); for a
/// <c>seccompViolation</c>, <c>seccompSyscall</c> and <c>seccompSyscallNumber</c> name the call the filter killed the
/// program for, from the kernel's audit log line (null when the host could not read the kernel log, or otherwise).
/// The isolation report leaves out the policy's rules (hundreds of them); <c>isolation.seccompInstructions</c> says how
/// large the loaded filter was.
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
    string Seccomp,
    string? SeccompSyscall,
    int? SeccompSyscallNumber,
    IReadOnlyList<EnforcedLimit> Enforced,
    AppliedIsolation Isolation)
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { LeaveOutSeccompRules } },
    };

    /// <param name="r">The result.</param>
    /// <param name="seccomp">The policy's name as the user gave it (see <see cref="SeccompOption"/>).</param>
    public static ResultJson From(SandboxResult r, string seccomp) =>
        new(r.Outcome, r.ExitCode, r.Signal, Math.Round(r.WallTime.TotalMilliseconds, 3),
            Seen(r.StandardOutput)?.TotalBytes, r.StandardOutput.ForwardedBytes, r.StandardOutput.Truncated,
            Seen(r.StandardError)?.TotalBytes, r.StandardError.ForwardedBytes, r.StandardError.Truncated,
            Ms(r.Usage.CpuTime), Ms(r.Usage.UserCpuTime), Ms(r.Usage.SystemCpuTime),
            r.Usage.PeakMemoryBytes, r.Usage.MemorySource, r.Usage.CpuSource, r.Usage.OomKilled, r.Usage.PeakProcesses,
            seccomp, r.SeccompViolation?.SyscallName, r.SeccompViolation?.SyscallNumber,
            r.Enforced, r.Isolation);

    /// <summary>Drops <see cref="AppliedIsolation.Seccomp"/> (the whole policy, every rule) from the isolation report.</summary>
    private static void LeaveOutSeccompRules(JsonTypeInfo info)
    {
        if (info.Type != typeof(AppliedIsolation))
            return;
        for (int i = info.Properties.Count - 1; i >= 0; i--)
            if (info.Properties[i].AttributeProvider is System.Reflection.PropertyInfo { Name: nameof(AppliedIsolation.Seccomp) })
                info.Properties.RemoveAt(i);
    }

    /// <summary>The stream if the CLI read it (forwarded), null if the program wrote to the terminal's own.</summary>
    private static CapturedOutput? Seen(CapturedOutput output) => output.Forwarded ? output : null;

    private static double Ms(TimeSpan t) => Math.Round(t.TotalMilliseconds, 3);
}
