using System.Collections.Immutable;

namespace Sandbox.Seccomp;

/// <summary>
/// One rule of a policy: when <paramref name="Syscall"/> is called and every condition holds, the filter
/// returns <paramref name="Action"/>. A syscall's rules are tried in order; the first that matches decides.
/// </summary>
/// <param name="Syscall">The syscall's name ("openat"); resolved to a number per architecture when compiled.</param>
/// <param name="Action">What happens when the rule matches.</param>
/// <param name="Conditions">Conditions that must all hold (none: the rule always matches).</param>
public sealed record SyscallRule(string Syscall, SeccompAction Action, ImmutableArray<ArgumentCondition> Conditions)
{
    /// <summary>A rule without conditions.</summary>
    public SyscallRule(string syscall, SeccompAction action)
        : this(syscall, action, [])
    {
    }

    /// <summary>Whether the rule matches a call with these arguments.</summary>
    public bool Matches(ReadOnlySpan<ulong> arguments)
    {
        foreach (var condition in Conditions.IsDefault ? [] : Conditions)
            if (!condition.Matches(arguments[condition.Index]))
                return false;
        return true;
    }

    /// <summary>"socket: Allow when arg0 == 0x1".</summary>
    public override string ToString() =>
        Conditions.IsDefaultOrEmpty ? $"{Syscall}: {Action}" : $"{Syscall}: {Action} when {string.Join(" && ", Conditions)}";
}
