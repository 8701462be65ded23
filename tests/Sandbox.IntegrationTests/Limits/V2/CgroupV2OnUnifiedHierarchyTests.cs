using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Sandbox.Cgroups;
using Sandbox.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Sandbox.IntegrationTests.Limits.V2;

/// <summary>
/// The v2 driver and clone3(CLONE_INTO_CGROUP) against a real cgroup2 hierarchy: on this hybrid host the empty one at
/// /sys/fs/cgroup/unified (see <see cref="UnifiedCgroupHost"/>). Sandboxes are born in their cgroup, their CPU time comes
/// from cpu.stat, cgroup.kill ends a tree, nothing is left after many runs, a limit whose controller the hierarchy lacks
/// is refused by name, and a launcher that cannot use clone3 falls back to cgroup.procs and says why.
/// </summary>
[Collection(LimitsCollection.Name)]
public sealed class CgroupV2OnUnifiedHierarchyTests(UnifiedCgroupHost host, ITestOutputHelper output) : IClassFixture<UnifiedCgroupHost>
{
    private const long MiB = 1 << 20;
    private const int E2BIG = 7, EINVAL = 22, ENOSYS = 38;
    private static readonly TimeSpan Ample = TimeSpan.FromSeconds(30);

    [UnifiedCgroupFact(UnifiedCgroupFeature.CloneIntoCgroup, Timeout = 60_000)]
    public async Task A_sandbox_is_born_in_its_v2_cgroup_by_clone3_and_that_cgroup_is_its_cgroup_namespace_root()
    {
        string cgroup;
        await using (var running = await host.Runner.StartAsync(Probe.Command("sleep", "10").WithCpuTimeLimit(Ample)))
        {
            cgroup = UnifiedCgroupHost.CgroupOf(running.Pid);
            output.WriteLine($"init {running.Pid} in 0::{cgroup}");

            Assert.Equal(CgroupJoinMethod.CloneIntoCgroup, running.Isolation.CgroupJoin);
            Assert.Null(running.Isolation.CgroupJoinFallback);
            Assert.StartsWith(UnifiedCgroupHost.ParentCgroup + "/sandbox-", cgroup, StringComparison.Ordinal);
            Assert.Contains(running.Pid.ToString(CultureInfo.InvariantCulture), File.ReadAllLines(UnifiedCgroupProbe.MountPoint + cgroup + "/cgroup.procs"));
            await running.KillAsync();
            Assert.Equal(SandboxOutcome.Signaled, (await running.WaitAsync()).Outcome);
        }
        Assert.True(host.Runner.Cleanup.WaitUntilIdle(TimeSpan.FromSeconds(20)), "the runner's clean-up is still busy");
        Assert.False(Directory.Exists(UnifiedCgroupProbe.MountPoint + cgroup), $"{cgroup} is left");

        // Inside, the cgroup namespace was entered after the clone: the sandbox's cgroup is its root.
        var inside = await host.Runner.RunAsync(SandboxSpec.Command("/bin/cat", "/proc/self/cgroup").WithCpuTimeLimit(Ample));
        output.WriteLine(inside.StandardOutput.Text);
        Assert.Equal(SandboxOutcome.Ok, inside.Outcome);
        Assert.Equal("0::/", inside.StandardOutput.Text.Split('\n').Single(l => l.StartsWith("0::", StringComparison.Ordinal)));
        Assert.Equal(CgroupJoinMethod.CloneIntoCgroup, inside.Isolation.CgroupJoin);
    }

    [UnifiedCgroupFact(Timeout = 60_000)]
    public async Task The_CPU_time_of_a_v2_cgroup_comes_from_cpu_stat_and_ends_a_busy_loop_at_its_limit()
    {
        var limit = TimeSpan.FromMilliseconds(300);

        var result = await host.Runner.RunAsync(Probe.Command("spin", "0").WithCpuTimeLimit(limit));

        output.WriteLine($"{result.Outcome}: {result.Usage}");
        Assert.Equal(SandboxOutcome.CpuTimeLimitExceeded, result.Outcome);
        Assert.Equal(CpuTimeSource.Cgroup, result.Usage.CpuSource);
        // Killed within 5% + 20 ms of the limit (the poll runs every 10 ms), as on v1.
        Assert.InRange(result.Usage.CpuTime, limit, limit * 1.05 + TimeSpan.FromMilliseconds(20));
        Assert.InRange(result.Usage.UserCpuTime, limit / 2, result.Usage.CpuTime);
        Assert.Equal("cgroup v2 CPU usage polled every 10 ms, limit 300 ms", Assert.Single(result.Enforced).Mechanism);
    }

    [UnifiedCgroupFact(Timeout = 60_000)]
    public async Task Without_the_memory_and_pids_controllers_peak_memory_comes_from_getrusage_and_peak_processes_is_unknown()
    {
        var result = (await host.Runner.RunAsync(Probe.Command("touch", "8").WithCpuTimeLimit(Ample))).EnsureSuccess();

        output.WriteLine(result.Usage.ToString());
        Assert.Equal(CpuTimeSource.Cgroup, result.Usage.CpuSource);
        Assert.True(result.Usage.CpuTime > TimeSpan.Zero);
        Assert.Equal(MemorySource.RusageMaxRss, result.Usage.MemorySource);
        Assert.InRange(result.Usage.PeakMemoryBytes ?? 0, 8 * MiB, 12 * MiB);
        Assert.Null(result.Usage.PeakProcesses);
        Assert.False(result.Usage.OomKilled);
    }

    [UnifiedCgroupFact(UnifiedCgroupFeature.Kill, Timeout = 60_000)]
    public async Task Cgroup_kill_ends_every_process_of_a_v2_cgroup_also_those_in_other_sessions()
    {
        var driver = host.NewDriver();
        var cgroup = driver.Create("kill-" + Guid.NewGuid().ToString("N"), new CgroupLimits());
        string directory = cgroup.UnifiedDirectory!;
        Assert.True(File.Exists(directory + "/cgroup.kill"));
        // A shell that moves itself into the cgroup, then starts three sleepers in sessions of their own.
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"echo $$ > {directory}/cgroup.procs && for i in 1 2 3; do setsid sleep 60 & done; echo ready; wait");
        using var shell = Process.Start(start)!;
        Assert.Equal("ready", await shell.StandardOutput.ReadLineAsync());
        var members = cgroup.ReadProcesses();
        output.WriteLine($"in {directory}: {string.Join(' ', members)}");
        Assert.Contains(shell.Id, members);
        Assert.InRange(members.Count, 4, 7);

        await cgroup.KillAsync();

        Assert.False(cgroup.IsPopulated());
        await shell.WaitForExitAsync();
        Assert.Equal(128 + 9, shell.ExitCode);
        Assert.All(members, pid => Assert.True(IsGone(pid), $"process {pid} survived cgroup.kill"));
        await cgroup.RemoveAsync();
        Assert.False(Directory.Exists(directory));
    }

    /// <summary>How each run ends; run i is kind i mod the number of kinds.</summary>
    private enum Ending
    {
        Exits,
        TimesOut,
        ExceedsCpuTime,
        IsCancelled,
        IsDisposedWhileRunning,
        LeavesSleepersAndTimesOut,
        FailsToSetUp,
    }

    [UnifiedCgroupFact(UnifiedCgroupFeature.CloneIntoCgroup, Timeout = 120_000)]
    public async Task A_hundred_runs_on_cgroup_v2_however_they_end_leave_no_cgroup_and_no_process()
    {
        const int Runs = 100;
        string marker = HostProcesses.NewMarker();
        var outcomes = new ConcurrentDictionary<string, int>();
        var stopwatch = Stopwatch.StartNew();

        await Parallel.ForEachAsync(Enumerable.Range(0, Runs), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
        {
            var ending = (Ending)(i % Enum.GetValues<Ending>().Length);
            string outcome = await RunAsync(ending, marker);
            outcomes.AddOrUpdate($"{ending}: {outcome}", 1, (_, n) => n + 1);
        });

        output.WriteLine($"{Runs} runs in {stopwatch.Elapsed.TotalSeconds:0.0} s, 4 at a time");
        foreach (var (what, count) in outcomes.OrderBy(o => o.Key, StringComparer.Ordinal))
            output.WriteLine($"{count,4} × {what}");
        Assert.Equal(
            [
                "ExceedsCpuTime: CpuTimeLimitExceeded by CloneIntoCgroup",
                "Exits: Ok by CloneIntoCgroup",
                "FailsToSetUp: OpenBindSource",
                "IsCancelled: cancelled",
                "IsDisposedWhileRunning: disposed by CloneIntoCgroup",
                "LeavesSleepersAndTimesOut: TimedOut by CloneIntoCgroup",
                "TimesOut: TimedOut by CloneIntoCgroup",
            ],
            outcomes.Keys.Order(StringComparer.Ordinal));
        host.WaitForCleanup();
        Assert.Empty(UnifiedCgroupHost.CgroupsOfThisProcess());
        Assert.Empty(UnifiedCgroupHost.ProcessesInCgroupsOfThisProcess());
        Assert.Empty(HostProcesses.WithMarker(marker));
    }

    private async Task<string> RunAsync(Ending ending, string marker)
    {
        SandboxSpec Limited(params string[] probe) => Probe.Command([.. probe, marker]).WithCpuTimeLimit(Ample).WithWallTimeLimit(TimeSpan.FromSeconds(20));
        static string Of(SandboxResult r) => $"{r.Outcome} by {r.Isolation.CgroupJoin}";
        switch (ending)
        {
            case Ending.Exits:
                return Of(await host.Runner.RunAsync(Limited("exit", "0")));
            case Ending.TimesOut:
                return Of(await host.Runner.RunAsync(Limited("sleep", "10").WithWallTimeLimit(TimeSpan.FromMilliseconds(50))));
            case Ending.ExceedsCpuTime:
                return Of(await host.Runner.RunAsync(Limited("spin", "0").WithCpuTimeLimit(TimeSpan.FromMilliseconds(30))));
            case Ending.IsCancelled:
                using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
                {
                    try
                    {
                        return "not cancelled: " + Of(await host.Runner.RunAsync(Limited("sleep", "10"), cts.Token));
                    }
                    catch (OperationCanceledException)
                    {
                        return "cancelled";
                    }
                }
            case Ending.IsDisposedWhileRunning:
                await using (var running = await host.Runner.StartAsync(Limited("sleep", "10")))
                {
                    await Task.Delay(10);
                    return "disposed by " + running.Isolation.CgroupJoin;
                }
            case Ending.LeavesSleepersAndTimesOut:
                return Of(await host.Runner.RunAsync(Limited("fork-sleepers", "3").WithWallTimeLimit(TimeSpan.FromMilliseconds(100))));
            case Ending.FailsToSetUp:
                try
                {
                    return "set up: " + Of(await host.Runner.RunAsync(Limited("exit", "0").AddReadOnlyBind("/nonexistent-" + marker, "/data")));
                }
                catch (SandboxSetupException e)
                {
                    return e.Stage.ToString();
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(ending));
        }
    }

    [UnifiedCgroupTheory(Timeout = 60_000)]
    [InlineData("memory")]
    [InlineData("pids")]
    public async Task A_limit_is_refused_naming_its_controller_where_the_hierarchy_lacks_it_and_enforced_where_it_has_it(string controller)
    {
        var spec = controller == "memory" ? Probe.Command("exit", "0").WithMemoryLimit(64 * MiB) : Probe.Command("exit", "0").WithProcessLimit(16);
        bool available = File.ReadAllText(UnifiedCgroupProbe.MountPoint + "/cgroup.controllers")
            .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Contains(controller, StringComparer.Ordinal);

        if (available)
        {
            // A host whose cgroup2 hierarchy has the controller (v2-only): the limit is a v2 control file.
            var result = (await host.Runner.RunAsync(spec)).EnsureSuccess();
            Assert.Contains(result.Enforced, e => e.Mechanism.StartsWith($"cgroup v2 {controller}.max=", StringComparison.Ordinal));
            return;
        }
        var thrown = await Assert.ThrowsAnyAsync<SandboxException>(() => host.Runner.RunAsync(spec));
        output.WriteLine(thrown.Message);
        // Named where it was first asked for: the parent, or the hierarchy's root while the parent is still to be made.
        Assert.Contains($"The {controller} controller is not available in {UnifiedCgroupProbe.MountPoint}", thrown.Message, StringComparison.Ordinal);
        if (SandboxCgroupDirectories.HostUsesCgroupV1)
            Assert.Contains("bound to a cgroup v1 hierarchy", thrown.Message, StringComparison.Ordinal);
        host.WaitForCleanup();
        Assert.Empty(UnifiedCgroupHost.CgroupsOfThisProcess());
    }

    [UnifiedCgroupTheory(UnifiedCgroupFeature.CloneIntoCgroup, Timeout = 60_000)]
    [InlineData(ENOSYS, "ENOSYS")]
    [InlineData(E2BIG, "E2BIG")]
    [InlineData(EINVAL, "EINVAL")]
    public async Task Where_clone3_fails_as_on_a_kernel_or_container_without_it_the_launcher_falls_back_to_cgroup_procs_and_says_why(int errno, string name)
    {
        var runner = host.NewRunner(LauncherThreadFilter.HidingClone3(errno));
        string cgroup;
        await using (var running = await runner.StartAsync(Probe.Command("sleep", "10").WithCpuTimeLimit(Ample)))
        {
            cgroup = UnifiedCgroupHost.CgroupOf(running.Pid);
            output.WriteLine($"{running.Isolation.CgroupJoin}: {running.Isolation.CgroupJoinFallback}");

            Assert.Equal(CgroupJoinMethod.CgroupProcs, running.Isolation.CgroupJoin);
            Assert.Contains(name, running.Isolation.CgroupJoinFallback, StringComparison.Ordinal);
            Assert.StartsWith(UnifiedCgroupHost.ParentCgroup + "/sandbox-", cgroup, StringComparison.Ordinal);
            await running.KillAsync();
            await running.WaitAsync();
        }
        Assert.True(runner.Cleanup.WaitUntilIdle(TimeSpan.FromSeconds(20)), "the runner's clean-up is still busy");
        Assert.False(Directory.Exists(UnifiedCgroupProbe.MountPoint + cgroup), $"{cgroup} is left");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_default_runner_joins_v1_by_cgroup_procs_and_v2_by_clone3_and_a_sandbox_without_its_own_cgroup_joins_nothing()
    {
        var limited = (await Probe.Command("exit", "0").WithCpuTimeLimit(Ample).RunAsync()).EnsureSuccess();
        var unlimited = (await Probe.Command("exit", "0").WithoutOwnCgroup().RunAsync()).EnsureSuccess();

        Assert.Equal(SandboxCgroupDirectories.HostUsesCgroupV1 ? CgroupJoinMethod.CgroupProcs : CgroupJoinMethod.CloneIntoCgroup, limited.Isolation.CgroupJoin);
        Assert.Null(limited.Isolation.CgroupJoinFallback);
        Assert.Null(unlimited.Isolation.CgroupJoin);
        Assert.Null(unlimited.Isolation.CgroupJoinFallback);
    }

    private static bool IsGone(int pid)
    {
        try
        {
            // A zombie has left its cgroup (and every other resource but its pid).
            string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }
}
