using System.Diagnostics.Contracts;
using Sandbox.Seccomp;

namespace Sandbox;

public sealed partial record SandboxSpec
{
    /// <summary>
    /// The seccomp policy the program runs under (null: none is set). <see cref="SeccompPolicy.Default"/>
    /// and <see cref="SeccompPolicy.Judge"/> are built in; <see cref="SeccompPolicy.Unconfined"/> says "no
    /// filter" explicitly.
    /// </summary>
    public SeccompPolicy? Seccomp { get; init; }

    /// <summary>The seccomp policy (see <see cref="Seccomp"/>).</summary>
    [Pure]
    public SandboxSpec WithSeccomp(SeccompPolicy? policy) => this with { Seccomp = policy };

    private void ValidateSeccomp(List<string> problems)
    {
        if (Seccomp is null)
            return;
        if (SeccompArchitectures.Native is not { } architecture)
        {
            problems.Add($"Seccomp is set, but filters are compiled for x86_64 and aarch64 only, not {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}: remove the policy.");
            return;
        }
        foreach (var problem in Seccomp.Validate(architecture))
            problems.Add($"Seccomp: {problem}");
    }
}
