namespace Sandbox.Seccomp;

/// <summary>A seccomp policy or profile is invalid: lists every problem, each with where it is and the fix.</summary>
public sealed class SeccompPolicyException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    public SeccompPolicyException(string what, IReadOnlyList<string> problems)
        : base($"{what} is invalid:" + string.Concat(problems.Select(p => Environment.NewLine + "  - " + p)))
    {
        Problems = problems;
    }

    /// <summary>Each problem, with the offending value (and, for an imported profile, its JSON path) and the fix.</summary>
    public IReadOnlyList<string> Problems { get; }
}
