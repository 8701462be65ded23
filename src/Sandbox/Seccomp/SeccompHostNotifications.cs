using System.Runtime.CompilerServices;

namespace Sandbox.Seccomp;

/// <summary>
/// Whether a policy sends calls to the host (<see cref="SeccompActionKind.UserNotify"/>), looked at once per policy: every
/// launch's validation asks, and the answer means a walk over all the policy's rules (some 400 for the Default profile,
/// tens of microseconds on a cold cache), while a policy never changes.
/// </summary>
internal static class SeccompHostNotifications
{
    private static readonly ConditionalWeakTable<SeccompPolicy, StrongBox<bool>> Known = new();

    /// <summary>True when the default action or a rule of <paramref name="policy"/> is <see cref="SeccompActionKind.UserNotify"/>.</summary>
    public static bool SendsCallsToHost(SeccompPolicy policy) =>
        Known.GetValue(policy, static p => new StrongBox<bool>(
            p.DefaultAction.Kind == SeccompActionKind.UserNotify
            || (!p.Rules.IsDefault && p.Rules.Any(r => r?.Action.Kind == SeccompActionKind.UserNotify)))).Value;
}
