using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class OutcomeTests
{
    /// <summary>probe arguments → outcome, exit code, signal, and the exit code a shell would report.</summary>
    public static TheoryData<string[], SandboxOutcome, int?, int?, int> Programs => new()
    {
        { ["exit", "0"], SandboxOutcome.Ok, 0, null, 0 },
        { ["exit", "1"], SandboxOutcome.NonZeroExit, 1, null, 1 },
        { ["exit", "42"], SandboxOutcome.NonZeroExit, 42, null, 42 },
        { ["exit", "255"], SandboxOutcome.NonZeroExit, 255, null, 255 },
        { ["kill-self", "9"], SandboxOutcome.Signaled, null, 9, 137 },
        { ["kill-self", "15"], SandboxOutcome.Signaled, null, 15, 143 },
        { ["kill-self", "6"], SandboxOutcome.Signaled, null, 6, 134 },
        { ["kill-self", "11"], SandboxOutcome.Signaled, null, 11, 139 },
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Programs))]
    public async Task How_the_program_ends_is_the_outcome(string[] probeArguments, SandboxOutcome outcome, int? exitCode, int? signal, int shellExitCode)
    {
        var result = await Probe.Command(probeArguments).RunAsync();

        Assert.Equal(outcome, result.Outcome);
        Assert.Equal(exitCode, result.ExitCode);
        Assert.Equal(signal, result.Signal);
        Assert.Equal(shellExitCode, result.ShellExitCode);
        Assert.Equal(outcome == SandboxOutcome.Ok, result.IsSuccess);
    }

    [Fact(Timeout = 60_000)]
    public async Task EnsureSuccess_throws_for_a_failed_program_with_its_standard_error()
    {
        var result = await SandboxSpec.Command("/bin/sh", "-c", "echo something broke >&2; exit 3").RunAsync();

        var e = Assert.Throws<SandboxCommandException>(() => result.EnsureSuccess());
        Assert.Same(result, e.Result);
        Assert.Contains("exit code 3", e.Message, StringComparison.Ordinal);
        Assert.Contains("something broke", e.Message, StringComparison.Ordinal);
    }
}
