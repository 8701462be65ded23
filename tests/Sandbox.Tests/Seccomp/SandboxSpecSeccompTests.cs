using Sandbox.Seccomp;

namespace Sandbox.Tests.Seccomp;

/// <summary>A seccomp policy on the spec: kept as given, checked with the rest of the spec.</summary>
public class SandboxSpecSeccompTests
{
    [Fact]
    public void The_default_policy_is_on_unless_changed_and_WithSeccomp_returns_a_changed_copy()
    {
        var spec = SandboxSpec.Command("/bin/true");
        Assert.Same(SeccompPolicy.Default, spec.Seccomp);
        var judged = spec.WithSeccomp(SeccompPolicy.Judge);
        Assert.Same(SeccompPolicy.Judge, judged.Seccomp);
        Assert.Same(SeccompPolicy.Default, spec.Seccomp);
        Assert.Empty(spec.Validate(hostIsRoot: true));
        Assert.Empty(judged.Validate(hostIsRoot: true));
        Assert.Empty(spec.WithSeccomp(SeccompPolicy.Unconfined).Validate(hostIsRoot: false));
        Assert.Throws<ArgumentNullException>(() => spec.WithSeccomp(null!));
    }

    [Fact]
    public void An_invalid_policy_is_reported_with_the_other_problems_of_the_spec()
    {
        var policy = new SeccompPolicy(SeccompAction.Allow, [new SyscallRule("mountt", SeccompAction.Errno(1)), new SyscallRule("read", SeccompAction.Allow, [new ArgumentCondition(9, ComparisonOperator.Equal, 0)])]);
        var problems = SandboxSpec.Command("/bin/true").WithHostname("bad name").WithSeccomp(policy).Validate(hostIsRoot: true);
        Assert.Contains(problems, p => p.StartsWith("Seccomp: Rules[0] (mountt)", StringComparison.Ordinal) && p.Contains("did you mean 'mount'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Seccomp: Rules[1] (read) condition 0", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Hostname", StringComparison.Ordinal));
    }

    [Fact]
    public void A_policy_that_sends_calls_to_the_host_needs_a_supervisor_and_a_supervisor_needs_such_a_policy()
    {
        var notifying = SeccompPolicy.Default.ToBuilder().Notify("connect").Build();
        var spec = SandboxSpec.Command("/bin/true");
        ValueTask<SeccompNotificationResponse> Decide(SeccompNotification call, CancellationToken token) => ValueTask.FromResult(SeccompNotificationResponse.Continue);

        var unsupervised = spec.WithSeccomp(notifying).Validate(hostIsRoot: true);
        var supervised = spec.WithSeccomp(notifying).WithSeccompSupervisor(Decide).Validate(hostIsRoot: true);
        var idle = spec.WithSeccompSupervisor(Decide).Validate(hostIsRoot: true);
        var againUnsupervised = spec.WithSeccomp(notifying).Validate(hostIsRoot: true); // the policy's answer is kept: still asked

        Assert.Contains(unsupervised, p => p.Contains("no supervisor decides them", StringComparison.Ordinal));
        Assert.Empty(supervised);
        Assert.Contains(idle, p => p.Contains("the policy sends no call to the host", StringComparison.Ordinal));
        Assert.Equal(unsupervised, againUnsupervised);
        Assert.True(SeccompHostNotifications.SendsCallsToHost(notifying));
        Assert.False(SeccompHostNotifications.SendsCallsToHost(SeccompPolicy.Default));
        Assert.True(SeccompHostNotifications.SendsCallsToHost(new SeccompPolicy(SeccompAction.UserNotify, [])));
    }
}
