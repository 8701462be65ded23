namespace Sandbox.Cgroups;

/// <summary>Something detection found: what is missing or odd, and how to fix it.</summary>
/// <param name="Severity">Whether it prevents sandbox cgroups.</param>
/// <param name="What">What is missing, naming the path or controller.</param>
/// <param name="Fix">The command or setting that fixes it; null when nothing needs doing.</param>
internal sealed record CgroupProblem(CgroupProblemSeverity Severity, string What, string? Fix)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{Severity.ToString().ToLowerInvariant()}: {What}{(Fix is null ? "" : $" Fix: {Fix}")}";
}
