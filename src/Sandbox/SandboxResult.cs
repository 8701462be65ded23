namespace Sandbox;

/// <summary>What a sandboxed run did.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="ExitCode">The program's exit status, if it exited.</param>
/// <param name="Signal">The signal that killed it, if one did.</param>
/// <param name="WallTime">Monotonic time from launch to exit.</param>
/// <param name="StandardOutput">Captured standard output.</param>
/// <param name="StandardError">Captured standard error.</param>
/// <param name="Isolation">The isolation the run had.</param>
public sealed record SandboxResult(
    SandboxOutcome Outcome,
    int? ExitCode,
    int? Signal,
    TimeSpan WallTime,
    CapturedOutput StandardOutput,
    CapturedOutput StandardError,
    AppliedIsolation Isolation)
{
    /// <summary>CPU time, peak memory and OOM kills, each with its source.</summary>
    public ResourceUsage Usage { get; init; } = ResourceUsage.None;

    /// <summary>Every limit that was enforced, and by which mechanism.</summary>
    public System.Collections.Immutable.ImmutableArray<EnforcedLimit> Enforced { get; init; } = [];

    /// <summary>The forbidden system call, when the outcome is <see cref="SandboxOutcome.SeccompViolation"/>; null otherwise.</summary>
    public SeccompViolation? SeccompViolation { get; init; }

    /// <summary>True when the outcome is <see cref="SandboxOutcome.Ok"/>.</summary>
    public bool IsSuccess => Outcome == SandboxOutcome.Ok;

    /// <summary>The exit code a shell would report: the status, or 128 + the signal.</summary>
    public int ShellExitCode => ExitCode ?? (Signal is { } s ? 128 + s : 137);

    /// <summary>Throws <see cref="SandboxCommandException"/> unless the outcome is <see cref="SandboxOutcome.Ok"/> (opt-in).</summary>
    public SandboxResult EnsureSuccess() => IsSuccess ? this : throw new SandboxCommandException(this);
}

/// <summary>Thrown by <see cref="SandboxResult.EnsureSuccess"/> only: the program did not succeed.</summary>
public sealed class SandboxCommandException(SandboxResult result)
    : SandboxException($"The sandboxed program did not succeed: {result.Outcome}" +
        (result.ExitCode is { } c ? $" (exit code {c})" : result.Signal is { } s ? $" (signal {s})" : "") +
        (result.StandardError.Bytes.Length > 0 ? $". Standard error: {Tail(result.StandardError.Text)}" : "."))
{
    /// <summary>The result that was not a success.</summary>
    public SandboxResult Result { get; } = result;

    private static string Tail(string text) => text.Length <= 500 ? text.TrimEnd() : "..." + text[^500..].TrimEnd();
}
