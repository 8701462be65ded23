namespace Sandbox;

/// <summary>A sandbox specification is invalid: lists every problem with the value and the fix.</summary>
public sealed class SandboxValidationException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    public SandboxValidationException(IReadOnlyList<string> problems)
        : base("The sandbox specification is invalid:" + string.Concat(problems.Select(p => Environment.NewLine + "  - " + p)))
    {
        Problems = problems;
    }

    /// <summary>Each problem, with the offending value and the fix.</summary>
    public IReadOnlyList<string> Problems { get; }
}
