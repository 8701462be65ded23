using System.Collections.Concurrent;
using System.Diagnostics;
using Sandbox.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Sandbox.IntegrationTests.Limits;

/// <summary>Every sandbox cgroup goes away with its sandbox, however the run ended.</summary>
[Collection(LimitsCollection.Name)]
public sealed class CgroupLeakTests(ITestOutputHelper output)
{
    private const long MiB = 1 << 20;
    private const int Runs = 300;

    /// <summary>How each run ends; run i is kind i mod the number of kinds.</summary>
    private enum Ending
    {
        Exits,
        TimesOut,
        IsCancelled,
        ExceedsCpuTime,
        RunsOutOfMemory,
        TimesOutWithChildrenInOtherSessions,
        IsDisposedWhileRunning,
    }

    [Fact(Timeout = 60_000)]
    public async Task Three_hundred_runs_with_limits_however_they_end_leave_no_cgroup_and_no_process()
    {
        string marker = HostProcesses.NewMarker();
        var outcomes = new ConcurrentDictionary<string, int>();
        var stopwatch = Stopwatch.StartNew();

        await Parallel.ForEachAsync(
            Enumerable.Range(0, Runs),
            new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (i, _) =>
            {
                var ending = (Ending)(i % Enum.GetValues<Ending>().Length);
                string outcome = await RunAsync(ending, marker);
                outcomes.AddOrUpdate($"{ending}: {outcome}", 1, (_, n) => n + 1);
            });

        output.WriteLine($"{Runs} runs in {stopwatch.Elapsed.TotalSeconds:0.0} s");
        foreach (var (what, count) in outcomes.OrderBy(o => o.Key, StringComparer.Ordinal))
            output.WriteLine($"{count,4} × {what}");
        Assert.Equal(
            [
                "ExceedsCpuTime: CpuTimeLimitExceeded",
                "Exits: Ok",
                "IsCancelled: cancelled",
                "IsDisposedWhileRunning: disposed",
                "RunsOutOfMemory: MemoryLimitExceeded",
                "TimesOut: TimedOut",
                "TimesOutWithChildrenInOtherSessions: TimedOut",
            ],
            outcomes.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(SandboxCgroupDirectories.OfThisProcess());
        Assert.Empty(HostProcesses.WithMarker(marker));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_running_sandbox_with_limits_has_a_cgroup_of_this_process_in_each_accounting_hierarchy()
    {
        // The leak check looks in the right places: while a sandbox runs, its cgroup is found there.
        await using var running = await Probe.Command("sleep", "10").WithMemoryLimit(64 * MiB).StartAsync();

        var found = SandboxCgroupDirectories.OfThisProcess();

        Assert.Equal(SandboxCgroupDirectories.AccountingHierarchies.Order(StringComparer.Ordinal),
            found.Select(d => d["/sys/fs/cgroup/".Length..].Split('/')[0]).Order(StringComparer.Ordinal));
        Assert.Single(found.Select(Path.GetFileName).Distinct());
        await running.KillAsync();
        await running.WaitAsync();
        Assert.Empty(SandboxCgroupDirectories.OfThisProcess());
    }

    private static async Task<string> RunAsync(Ending ending, string marker)
    {
        var limits = (SandboxSpec spec) => spec.WithMemoryLimit(64 * MiB).WithProcessLimit(16).WithWallTimeLimit(TimeSpan.FromSeconds(20));
        switch (ending)
        {
            case Ending.Exits:
                return (await limits(Probe.Command("exit", "0", marker)).RunAsync()).Outcome.ToString();
            case Ending.TimesOut:
                return (await limits(Probe.Command("sleep", "10", marker)).WithWallTimeLimit(TimeSpan.FromMilliseconds(50)).RunAsync()).Outcome.ToString();
            case Ending.IsCancelled:
                using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
                {
                    try
                    {
                        return "not cancelled: " + (await limits(Probe.Command("sleep", "10", marker)).RunAsync(cts.Token)).Outcome;
                    }
                    catch (OperationCanceledException)
                    {
                        return "cancelled";
                    }
                }
            case Ending.ExceedsCpuTime:
                return (await limits(Probe.Command("spin", "0", marker)).WithCpuTimeLimit(TimeSpan.FromMilliseconds(30)).RunAsync()).Outcome.ToString();
            case Ending.RunsOutOfMemory:
                return (await limits(Probe.Command("hog", "64", marker)).WithMemoryLimit(16 * MiB).RunAsync()).Outcome.ToString();
            case Ending.TimesOutWithChildrenInOtherSessions:
                return (await limits(Probe.Command("fork-sleepers", "3", marker)).WithWallTimeLimit(TimeSpan.FromMilliseconds(100)).RunAsync()).Outcome.ToString();
            case Ending.IsDisposedWhileRunning:
                await using (var running = await limits(Probe.Command("sleep", "10", marker)).StartAsync())
                {
                    await Task.Delay(10);
                }
                return "disposed";
            default:
                throw new ArgumentOutOfRangeException(nameof(ending));
        }
    }
}
