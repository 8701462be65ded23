using Sandbox.IntegrationTests.Support;
using Sandbox.Seccomp;
using Sandbox.Seccomp.Tables;

namespace Sandbox.IntegrationTests.Seccomp;

/// <summary>
/// The tests whose programs a seccomp filter kills: they run alone, because the system call of a kill is read back
/// from the kernel log, which has no sandbox identity in it — two kills at once that disagree are reported as unknown.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SeccompKillsCollection
{
    public const string Name = "Seccomp kills";
}

/// <summary>
/// A call a policy kills for: outcome <see cref="SandboxOutcome.SeccompViolation"/>, SIGSYS, and the call's name from
/// the kernel's audit line (this host is root, so /dev/kmsg is readable).
/// </summary>
[Collection(SeccompKillsCollection.Name)]
public sealed class SeccompViolationTests
{
    private const int SigSys = 31;

    /// <summary>Policies that kill the program for getppid.</summary>
    public static TheoryData<string> KillingPolicies => new() { "default less getppid", "allow all but getppid" };

    private static SeccompPolicy PolicyNamed(string name) => name switch
    {
        // The default profile allows getppid in an earlier rule, and the first matching rule decides: remove it first.
        "default less getppid" => SeccompPolicy.Default.ToBuilder().Remove("getppid").Kill("getppid").Build(),
        "allow all but getppid" => SeccompPolicy.Create(SeccompAction.Allow).Kill("getppid").Build(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a test policy"),
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(KillingPolicies))]
    public async Task A_call_the_policy_kills_for_ends_the_program_as_a_violation_naming_the_call(string policy)
    {
        var architecture = SeccompArchitectures.Native!.Value;
        Assert.True(SyscallTable.For(architecture).TryGetNumber("getppid", out int getppid));

        var result = await Probe.Command("getppid").WithSeccomp(PolicyNamed(policy)).WithWallTimeLimit(TimeSpan.FromSeconds(20)).RunAsync();

        Assert.Equal(SandboxOutcome.SeccompViolation, result.Outcome);
        Assert.Equal(SigSys, result.Signal);
        Assert.Null(result.ExitCode);
        Assert.Equal(128 + SigSys, result.ShellExitCode);
        Assert.Equal("", result.StandardOutput.Text);
        Assert.Equal(new SeccompViolation(getppid, "getppid", architecture), result.SeccompViolation);
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_the_kill_rule_the_same_program_runs()
    {
        var result = (await Probe.Command("getppid").WithSeccomp(SeccompPolicy.Default).RunAsync()).EnsureSuccess();

        Assert.Equal("1", result.StandardOutput.Values()["getppid"]);
        Assert.Null(result.SeccompViolation);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_program_that_raises_SIGSYS_itself_without_a_filter_is_Signaled()
    {
        var result = await Probe.Command("kill-self", SigSys.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithSeccomp(SeccompPolicy.Unconfined)
            .RunAsync();

        Assert.Equal(SandboxOutcome.Signaled, result.Outcome);
        Assert.Equal(SigSys, result.Signal);
        Assert.Null(result.SeccompViolation);
        Assert.Null(result.Isolation.Seccomp);
    }
}
