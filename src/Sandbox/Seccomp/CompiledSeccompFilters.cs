using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace Sandbox.Seccomp;

/// <summary>
/// Each policy compiled once per architecture and kept for as long as the policy lives: a launch validates and
/// loads its policy every time, and compiling Docker's default costs about a tenth of a millisecond.
/// </summary>
internal static class CompiledSeccompFilters
{
    private static readonly ConditionalWeakTable<SeccompPolicy, Dictionary<SeccompArchitecture, CompiledSeccompFilter>> Cache = new();

    /// <summary>The policy compiled for <paramref name="architecture"/>, or the problems that stop it compiling.</summary>
    public static CompiledSeccompFilter For(SeccompPolicy policy, SeccompArchitecture architecture)
    {
        var byArchitecture = Cache.GetValue(policy, _ => []);
        lock (byArchitecture)
        {
            if (!byArchitecture.TryGetValue(architecture, out var compiled))
                byArchitecture[architecture] = compiled = Compile(policy, architecture);
            return compiled;
        }
    }

    private static CompiledSeccompFilter Compile(SeccompPolicy policy, SeccompArchitecture architecture)
    {
        var problems = policy.Validate(architecture);
        return problems.Count > 0
            ? new CompiledSeccompFilter([.. problems], [])
            : new CompiledSeccompFilter([], policy.Compile(architecture).ToBytes());
    }
}

/// <summary>A compiled filter (struct sock_filter[] bytes), or why the policy could not be compiled.</summary>
internal sealed record CompiledSeccompFilter(ImmutableArray<string> Problems, byte[] Program);
