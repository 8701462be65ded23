using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Sandbox.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Sandbox.IntegrationTests.Limits;

/// <summary>Every sandbox cgroup goes away with its sandbox, however the run ended, and so do its processes and the host's fds.</summary>
[Collection(LimitsCollection.Name)]
public sealed class CgroupLeakTests(ITestOutputHelper output)
{
    private const long MiB = 1 << 20;
    private const int Runs = 1000;

    /// <summary>How each run ends; run i is kind i mod the number of kinds.</summary>
    private enum Ending
    {
        Exits,
        TimesOut,
        IsCancelled,
        IsCancelledWhileStarting,
        ExceedsCpuTime,
        RunsOutOfMemory,
        TimesOutWithChildrenInOtherSessions,
        IsDisposedWhileRunning,
        FloodsItsOutput,
        FailsToSetUp,
        ExitsPinnedAndThrottled,
    }

    [Fact(Timeout = 120_000)]
    public async Task A_thousand_runs_with_limits_however_they_end_leave_no_cgroup_no_process_and_no_fd()
    {
        string marker = HostProcesses.NewMarker();
        string disk = BlockDevices.DiskHolding(Path.GetTempPath()) ?? "";
        Assert.NotEqual("", disk);
        // Every kind once first, so what the host opens once (and keeps) is open before the fds are counted.
        foreach (var ending in Enum.GetValues<Ending>())
            await RunAsync(ending, marker, disk);
        var fdsBefore = WithoutPreparedCgroupFiles(OpenFds());
        var readyNetworksBefore = fdsBefore.Where(fd => IsNetworkNamespace(fd.Value)).ToList();
        var outcomes = new ConcurrentDictionary<string, int>();
        var stopwatch = Stopwatch.StartNew();

        await Parallel.ForEachAsync(
            Enumerable.Range(0, Runs),
            new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (i, _) =>
            {
                var ending = (Ending)(i % Enum.GetValues<Ending>().Length);
                string outcome = await RunAsync(ending, marker, disk);
                outcomes.AddOrUpdate($"{ending}: {outcome}", 1, (_, n) => n + 1);
            });

        var fdsAfter = WithoutPreparedCgroupFiles(OpenFds());
        var readyNetworksAfter = fdsAfter.Where(fd => IsNetworkNamespace(fd.Value)).ToList();
        // The network namespaces made ahead of time are the only fds that change by design: each run takes one
        // and the pool makes another, so they are counted, not compared.
        var newFds = fdsAfter.Where(fd => !IsNetworkNamespace(fd.Value))
            .Where(fd => !fdsBefore.TryGetValue(fd.Key, out var target) || target != fd.Value).ToList();
        output.WriteLine($"{Runs} runs in {stopwatch.Elapsed.TotalSeconds:0.0} s, 4 at a time");
        foreach (var (what, count) in outcomes.OrderBy(o => o.Key, StringComparer.Ordinal))
            output.WriteLine($"{count,4} × {what}");
        output.WriteLine($"host fds: {fdsBefore.Count} before, {fdsAfter.Count} after; new: " + string.Join(", ", newFds.Select(fd => $"{fd.Key} → {fd.Value}")));
        Assert.Equal(
            [
                "ExceedsCpuTime: CpuTimeLimitExceeded",
                "Exits: Ok",
                "ExitsPinnedAndThrottled: Ok",
                "FailsToSetUp: OpenBindSource",
                "FloodsItsOutput: OutputLimitExceeded",
                "IsCancelled: cancelled",
                "IsCancelledWhileStarting: cancelled",
                "IsDisposedWhileRunning: disposed",
                "RunsOutOfMemory: MemoryLimitExceeded",
                "TimesOut: TimedOut",
                "TimesOutWithChildrenInOtherSessions: TimedOut",
            ],
            outcomes.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(SandboxCgroupDirectories.OfThisProcess());
        Assert.Empty(HostProcesses.WithMarker(marker));
        Assert.Empty(ProcessesInCgroupsOfThisProcess());
        // Not one fd more: whatever the host opens once (the launcher thread's, the exit watcher's epoll, sandbox-init)
        // was opened by the warm-up runs; each run's pipes, pidfd and cgroup files are closed with it. (Fewer is fine:
        // earlier tests' handles that only a finalizer closes.)
        Assert.Empty(newFds);
        Assert.Equal(readyNetworksBefore.Count, readyNetworksAfter.Count);
        Assert.InRange(readyNetworksAfter.Count, 0, SandboxRunner.Shared.NetworkNamespaces?.Capacity ?? 0);
        Assert.InRange(fdsAfter.Count, 0, fdsBefore.Count);
        Assert.DoesNotContain(fdsAfter.Values, target => target.StartsWith("anon_inode:[pidfd]", StringComparison.Ordinal));
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

    private static async Task<string> RunAsync(Ending ending, string marker, string disk)
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
            case Ending.IsCancelledWhileStarting:
                // Cancelled somewhere between validation and the launch returning, or just after: never half-started.
                using (var cts = new CancellationTokenSource())
                {
                    cts.CancelAfter(TimeSpan.FromTicks(Random.Shared.Next(0, 20_000)));
                    try
                    {
                        var result = await limits(Probe.Command("sleep", "10", marker)).RunAsync(cts.Token);
                        return "not cancelled: " + result.Outcome;
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
            case Ending.FloodsItsOutput:
                return (await limits(Probe.Command("spew", "100000000", marker)).WithOutputLimit(64 * 1024, killWhenExceeded: true).RunAsync()).Outcome.ToString();
            case Ending.FailsToSetUp:
                try
                {
                    var result = await limits(Probe.Command("exit", "0", marker)).AddReadOnlyBind("/nonexistent-" + marker, "/data").RunAsync();
                    return "set up: " + result.Outcome;
                }
                catch (SandboxSetupException e)
                {
                    return e.Stage.ToString();
                }
            case Ending.ExitsPinnedAndThrottled:
                return (await limits(Probe.Command("exit", "0", marker)).WithCpuSet("0").AddIoLimit(disk, writeBytesPerSecond: 8 * MiB).RunAsync()).Outcome.ToString();
            default:
                throw new ArgumentOutOfRangeException(nameof(ending));
        }
    }

    /// <summary>
    /// Less the files the runner keeps open in the cgroups it made ahead of time for the next sandboxes (their accounting
    /// files, and the cgroup.procs their sandboxes' children write themselves into): which cgroups are ready differs
    /// between two counts by design. (OpenFds has waited for the pool to be full.)
    /// </summary>
    private static Dictionary<int, string> WithoutPreparedCgroupFiles(Dictionary<int, string> fds)
    {
        var ready = SandboxRunner.Shared.SandboxCgroups.Prepared?.ReadyNames ?? [];
        return fds.Where(fd => !(fd.Value.StartsWith("/sys/fs/cgroup/", StringComparison.Ordinal) && ready.Any(name => fd.Value.Contains("/" + name + "/", StringComparison.Ordinal))))
            .ToDictionary();
    }

    private static bool IsNetworkNamespace(string target) => target.StartsWith("net:[", StringComparison.Ordinal);

    /// <summary>
    /// This process's open fds and what each is (readlink of /proc/self/fd/N), after the handles only a finalizer would
    /// close are closed, less the fd of the listing itself.
    /// </summary>
    private static Dictionary<int, string> OpenFds()
    {
        // A full pool of prepared network namespaces, so that both counts see the same number of them.
        if (SandboxRunner.Shared.NetworkNamespaces is { } pool)
            Assert.True(pool.WaitUntilFull(TimeSpan.FromSeconds(30)), pool.DisabledBecause);
        // And of cgroups made ahead of time, so that none is half made (its files half opened) while the fds are listed.
        if (SandboxRunner.Shared.SandboxCgroups.Prepared is { } cgroups)
            Assert.True(cgroups.WaitUntilFull(TimeSpan.FromSeconds(30)), cgroups.DisabledBecause);
        // Dead sandboxes' mount namespaces are closed on their own thread, soon after each run: all of them, first.
        Assert.True(SandboxRunner.Shared.Cleanup.WaitUntilIdle(TimeSpan.FromSeconds(30)), "mount namespaces still held after 30 s");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        string listing = $"/proc/{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}/fd";
        var fds = new Dictionary<int, string>();
        foreach (string entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                fds[int.Parse(Path.GetFileName(entry), CultureInfo.InvariantCulture)] = new FileInfo(entry).LinkTarget ?? "?";
            }
            catch (IOException)
            {
                // Closed while we looked (the enumeration's own fd, for one).
            }
        }
        return fds.Where(fd => fd.Value != listing).ToDictionary();
    }

    /// <summary>Host processes whose cgroup (in any hierarchy) is a sandbox cgroup of this process.</summary>
    private static List<string> ProcessesInCgroupsOfThisProcess()
    {
        string ours = $"-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-";
        var found = new List<string>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out _)) continue;
            try
            {
                found.AddRange(File.ReadAllLines(Path.Combine(dir, "cgroup"))
                    .Where(line => line.Contains("/sandbox-", StringComparison.Ordinal) && line.Contains(ours, StringComparison.Ordinal))
                    .Select(line => $"{Path.GetFileName(dir)}: {line}"));
            }
            catch (IOException)
            {
                // It exited while we looked.
            }
        }
        return found;
    }
}
