using Sandbox.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Sandbox.IntegrationTests.Limits;

/// <summary>
/// Programs that break a limit, and one that does not, run for real as root (cgroup v1 here): each row is a probe
/// command, the limits it runs under, the outcome it must end with and what its accounting must say.
/// </summary>
[Collection(LimitsCollection.Name)]
public sealed class LimitOutcomeTests(ITestOutputHelper output)
{
    private const long MiB = 1 << 20;
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    /// <summary>A row: the probe's arguments, the limits, the outcome, and the checks on the result.</summary>
    private sealed record Row(string[] Probe, Func<SandboxSpec, SandboxSpec> Limits, SandboxOutcome Outcome, Action<SandboxResult> Check);

    private static readonly Dictionary<string, Row> Table = new()
    {
        ["a memory hog (200 MiB) under a 64 MiB limit"] = new(
            ["hog", "200"],
            s => s.WithMemoryLimit(64 * MiB),
            SandboxOutcome.MemoryLimitExceeded,
            r =>
            {
                Assert.True(r.Usage.OomKilled);
                Assert.Equal(9, r.Signal);
                Assert.DoesNotContain("done", r.StandardOutput.Text, StringComparison.Ordinal);
                Assert.InRange(r.Usage.PeakMemoryBytes ?? 0, 32 * MiB, 64 * MiB);
            }),
        ["a fork bomb under a limit of 16 processes"] = new(
            ["forkbomb"],
            s => s.WithProcessLimit(16),
            SandboxOutcome.Ok,
            r =>
            {
                var values = r.StandardOutput.Values();
                Assert.Equal("EAGAIN", values["error"]);
                Assert.InRange(int.Parse(values["forked"]), 1, 14);
                Assert.InRange(r.Usage.PeakProcesses ?? 0, 3, 16);
            }),
        ["a busy loop under a 1 s CPU-time limit"] = new(
            ["spin", "0"],
            s => s.WithCpuTimeLimit(OneSecond),
            SandboxOutcome.CpuTimeLimitExceeded,
            r =>
            {
                Assert.Equal(9, r.Signal);
                Assert.Equal(CpuTimeSource.Cgroup, r.Usage.CpuSource);
                // Killed within 5% + 20 ms of the limit (the poll runs every 10 ms).
                Assert.InRange(r.Usage.CpuTime, OneSecond, OneSecond * 1.05 + TimeSpan.FromMilliseconds(20));
            }),
        ["a sleeper under a 1 s CPU-time limit and a 1 s wall-time limit"] = new(
            ["sleep", "10"],
            s => s.WithCpuTimeLimit(OneSecond).WithWallTimeLimit(OneSecond),
            SandboxOutcome.TimedOut,
            r =>
            {
                Assert.Equal(9, r.Signal);
                // The wall-time timer (System.Threading.Timer, on the kernel's coarse clock) can fire up to a jiffy
                // (4 ms here) before the Stopwatch says the limit has passed.
                Assert.InRange(r.WallTime, OneSecond - TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(3));
                Assert.InRange(r.Usage.CpuTime, TimeSpan.Zero, TimeSpan.FromMilliseconds(50));
            }),
        ["four busy threads under a 1 s CPU-time limit"] = new(
            ["spin-threads", "4"],
            s => s.WithCpuTimeLimit(OneSecond),
            SandboxOutcome.CpuTimeLimitExceeded,
            r =>
            {
                // Every thread is charged. Were each charged alone, 1 s of CPU per thread would take 4 s of wall time on
                // one CPU and 2 s on two; charged together, 1 s on one CPU, about 0.5 s on two.
                Assert.InRange(r.Usage.CpuTime, OneSecond, OneSecond * 1.05 + TimeSpan.FromMilliseconds(20) * Math.Min(4, Environment.ProcessorCount));
                Assert.True(r.WallTime < TimeSpan.FromSeconds(1.8), $"wall time {r.WallTime} for {r.Usage.CpuTime} of CPU");
                Assert.InRange(r.Usage.PeakProcesses ?? 0, 6, 16); // sandbox-init, the probe's main thread and its 4 threads
            }),
        ["a program touching 32 MiB under a 256 MiB limit"] = new(
            ["touch", "32"],
            s => s.WithMemoryLimit(256 * MiB),
            SandboxOutcome.Ok,
            r =>
            {
                Assert.Equal("32", r.StandardOutput.Values()["touched"]);
                Assert.False(r.Usage.OomKilled);
                Assert.Equal(SandboxCgroupDirectories.ExpectedMemorySource, r.Usage.MemorySource);
                Assert.InRange(r.Usage.PeakMemoryBytes ?? 0, 32 * MiB, (long)(32 * MiB * 1.1) + 2 * MiB);
            }),
    };

    public static TheoryData<string> Programs => new(Table.Keys);

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Programs))]
    public async Task A_program_under_limits_ends_as_the_table_says(string program)
    {
        var row = Table[program];
        string marker = HostProcesses.NewMarker();
        // A wall-time limit as a safety net, unless the row sets its own.
        var spec = row.Limits(Probe.Command([.. row.Probe, marker]).WithWallTimeLimit(TimeSpan.FromSeconds(20)));

        var result = await spec.RunAsync();

        output.WriteLine($"{program}: {result.Outcome}, signal {result.Signal}, wall {result.WallTime.TotalMilliseconds:0.0} ms, " +
            $"cpu {result.Usage.CpuTime.TotalMilliseconds:0.0} ms, peak memory {result.Usage.PeakMemoryBytes} ({result.Usage.MemorySource}), " +
            $"peak processes {result.Usage.PeakProcesses}");
        Assert.True(row.Outcome == result.Outcome, $"expected {row.Outcome}, got {result.Outcome}; stderr: {result.StandardError.Text}");
        row.Check(result);
        Assert.Empty(HostProcesses.WithMarker(marker));
        Assert.Empty(SandboxCgroupDirectories.OfThisProcess());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_fork_bomb_is_held_at_the_process_limit_while_the_host_still_starts_processes()
    {
        string marker = HostProcesses.NewMarker();
        await using var running = await Probe.Command("forkbomb", marker)
            .WithProcessLimit(16)
            .WithWallTimeLimit(TimeSpan.FromSeconds(20))
            .StartAsync();

        // The bomb prints once fork fails, then keeps every process alive for half a second.
        var lines = await new LineReader(running.StandardOutput).ReadLinesAsync(2);
        var held = HostProcesses.WithMarker(marker);
        using (var host = System.Diagnostics.Process.Start("/bin/true")!)
        {
            await host.WaitForExitAsync();
            Assert.Equal(0, host.ExitCode);
        }
        var result = await running.WaitAsync();

        Assert.StartsWith("forked=", lines[0], StringComparison.Ordinal);
        Assert.Equal("error=EAGAIN", lines[1]);
        Assert.InRange(held.Count, 3, 16); // sandbox-init, the probe and its descendants, all marked
        Assert.Equal(SandboxOutcome.Ok, result.Outcome);
        Assert.InRange(result.Usage.PeakProcesses ?? 0, held.Count, 16);
        HostProcesses.AssertAllGone(held, marker);
    }
}
