namespace Sandbox.Diagnostics;

/// <summary>How the trial sandbox went: what happened (an outcome, or the exception's message) and, if it failed, the fix.</summary>
internal sealed record SandboxTrialResult(bool Succeeded, string What, string? Fix)
{
    public static SandboxTrialResult Success(string what) => new(true, what, null);

    public static SandboxTrialResult Failure(string what, string fix) => new(false, what, fix);
}
