using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class WallTimeLimitTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_program_that_outlives_the_limit_times_out_with_SIGKILL()
    {
        var limit = TimeSpan.FromMilliseconds(500);

        var result = await Probe.Command("sleep", "30").WithWallTimeLimit(limit).RunAsync();

        Assert.Equal(SandboxOutcome.TimedOut, result.Outcome);
        Assert.Null(result.ExitCode);
        Assert.Equal(9, result.Signal);
        Assert.Equal(137, result.ShellExitCode);
        Assert.InRange(result.WallTime, limit, TimeSpan.FromSeconds(20));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_timeout_kills_every_process_in_the_sandbox_even_in_other_sessions()
    {
        string marker = HostProcesses.NewMarker();
        await using var running = await Probe.Command("fork-sleepers", "3", marker)
            .WithWallTimeLimit(TimeSpan.FromSeconds(3))
            .StartAsync();

        var sleepers = await new LineReader(running.StandardOutput).ReadLinesAsync(3);
        var hostPids = HostProcesses.WithMarker(marker);
        var result = await running.WaitAsync();

        Assert.All(sleepers, line => Assert.StartsWith("sleeper=", line, StringComparison.Ordinal));
        Assert.Equal(5, hostPids.Count); // sandbox-init, the probe and its three sleepers
        Assert.Equal(SandboxOutcome.TimedOut, result.Outcome);
        HostProcesses.AssertAllGone(hostPids, marker);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_program_that_finishes_within_the_limit_is_ok()
    {
        var result = await Probe.Command("exit", "0").WithWallTimeLimit(TimeSpan.FromSeconds(30)).RunAsync();

        Assert.Equal(SandboxOutcome.Ok, result.Outcome);
    }
}
