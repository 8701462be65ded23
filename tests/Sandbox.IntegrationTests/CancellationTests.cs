using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class CancellationTests
{
    [Fact(Timeout = 60_000)]
    public async Task Cancelling_a_run_throws_OperationCanceledException_and_kills_every_process()
    {
        string marker = HostProcesses.NewMarker();
        using var cts = new CancellationTokenSource();
        var run = Probe.Command("fork-sleepers", "2", marker).RunAsync(cts.Token);
        var hostPids = await HostProcesses.WaitForMarkerAsync(marker, count: 4, TimeSpan.FromSeconds(20));

        await cts.CancelAsync();

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(cts.Token, e.CancellationToken);
        Assert.Contains(Probe.InsidePath, e.Message, StringComparison.Ordinal);
        HostProcesses.AssertAllGone(hostPids, marker);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_run_with_a_cancelled_token_throws_before_starting_anything()
    {
        string marker = HostProcesses.NewMarker();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Probe.Command("fork-sleepers", "1", marker).RunAsync(new CancellationToken(canceled: true)));

        Assert.Empty(HostProcesses.WithMarker(marker));
    }

    [Fact(Timeout = 60_000)]
    public async Task Cancelling_a_wait_kills_the_started_sandbox()
    {
        string marker = HostProcesses.NewMarker();
        await using var running = await Probe.Command("fork-sleepers", "1", marker).StartAsync();
        await new LineReader(running.StandardOutput).ReadLineAsync();
        var hostPids = HostProcesses.WithMarker(marker);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(cts.Token));

        Assert.True(running.HasExited);
        Assert.Equal(3, hostPids.Count);
        HostProcesses.AssertAllGone(hostPids, marker);
    }
}
