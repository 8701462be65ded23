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

    /// <summary>
    /// Decides the calls the policy sends to the host (<see cref="SeccompAction.UserNotify"/>): each waits in the kernel
    /// until this returns. Null: none (a policy with UserNotify rules then fails validation).
    /// </summary>
    public Func<SeccompNotification, CancellationToken, ValueTask<SeccompNotificationResponse>>? SeccompSupervisor { get; init; }

    /// <summary>
    /// Sets the host-side supervisor of the policy's <see cref="SeccompAction.UserNotify"/> rules (see <see cref="SeccompSupervisor"/>):
    /// e.g. allow <c>connect</c> only to an allow-listed address.
    /// </summary>
    [Pure]
    public SandboxSpec WithSeccompSupervisor(Func<SeccompNotification, CancellationToken, ValueTask<SeccompNotificationResponse>> decide)
    {
        ArgumentNullException.ThrowIfNull(decide);
        return this with { SeccompSupervisor = decide };
    }

    private void ValidateSeccomp(List<string> problems)
    {
        if (Seccomp is null)
        {
            problems.Add("Seccomp is null: use SeccompPolicy.Unconfined to run without a filter.");
            return;
        }
        bool notifies = SeccompHostNotifications.SendsCallsToHost(Seccomp);
        if (notifies && SeccompSupervisor is null)
            problems.Add("Seccomp: the policy sends calls to the host (UserNotify) but no supervisor decides them: add WithSeccompSupervisor(...), or use another action.");
        if (!notifies && SeccompSupervisor is not null)
            problems.Add("SeccompSupervisor is set, but the policy sends no call to the host: give the calls to decide the UserNotify action (SeccompPolicyBuilder.Notify).");
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
