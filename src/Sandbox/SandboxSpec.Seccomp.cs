using System.Diagnostics.Contracts;
using Sandbox.Seccomp;

namespace Sandbox;

public sealed partial record SandboxSpec
{
    /// <summary>
    /// The seccomp policy the program runs under: <see cref="SeccompPolicy.Default"/> unless changed.
    /// <see cref="SeccompPolicy.Judge"/> is stricter; <see cref="SeccompPolicy.Unconfined"/> loads no filter at all
    /// (an explicit opt-out). The filter is loaded in the program's own process as the last step before its exec,
    /// so sandbox-init (PID 1) is never filtered.
    /// </summary>
    public SeccompPolicy Seccomp { get; init; } = SeccompPolicy.Default;

    /// <summary>The seccomp policy (see <see cref="Seccomp"/>); <see cref="SeccompPolicy.Unconfined"/> opts out.</summary>
    [Pure]
    public SandboxSpec WithSeccomp(SeccompPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return this with { Seccomp = policy };
    }

    private void ValidateSeccomp(List<string> problems)
    {
        if (Seccomp is null)
        {
            problems.Add("Seccomp is null: use SeccompPolicy.Unconfined to run without a filter.");
            return;
        }
        if (Seccomp.IsUnconfined)
            return;
        if (SeccompArchitectures.Native is not { } architecture)
        {
            problems.Add($"Seccomp is set, but filters are compiled for x86_64 and aarch64 only, not {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}: use SeccompPolicy.Unconfined.");
            return;
        }
        foreach (var problem in CompiledSeccompFilters.For(Seccomp, architecture).Problems)
            problems.Add($"Seccomp: {problem}");
    }
}
