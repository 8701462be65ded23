using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sandbox.Benchmarks.SideBySide;
using Sandbox.Cgroups;
using Sandbox.Cgroups.V2;
using Sandbox.Interop;

namespace Sandbox.Benchmarks.Cgroups;

/// <summary>
/// <c>cgroup-cost [--runs N] [--out FILE] [--v2-joins-only]</c>: what one sandbox cgroup costs — create (mkdir + limits), join (a real
/// process's pid written into each cgroup.procs, as the launcher does), destroy (what the runner does at the end of a
/// run) — through the drivers the runner uses, with every cgroup file operation counted and timed. Variants run
/// interleaved (every round runs each once, in a shuffled order), so their medians compare within one run:
/// the seam as it was before this work, the current one for a judge's limits with and without a CPU quota, and, where
/// the host has a cgroup2 mount, an empty v2 cgroup for reference; then complete runs with each limit, and complete runs
/// whose v2 cgroup is joined by clone3(CLONE_INTO_CGROUP) against a cgroup.procs write (<see cref="UnifiedJoinRuns"/>;
/// <c>--v2-joins-only</c> runs just those).
/// </summary>
internal static class CgroupCostCommand
{
    private const int WarmupRounds = 30;

    public static async Task<int> RunAsync(string[] args)
    {
        int runs = 300;
        string? outPath = null;
        bool v2JoinsOnly = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--v2-joins-only")
            {
                v2JoinsOnly = true;
                continue;
            }
            if (args[i] == "--runs" && i + 1 < args.Length && int.TryParse(args[++i], CultureInfo.InvariantCulture, out runs) && runs >= 10)
                continue;
            if (args[i] == "--out" && i + 1 < args.Length)
            {
                outPath = Path.GetFullPath(args[++i]);
                continue;
            }
            await Console.Error.WriteLineAsync("usage: cgroup-cost [--runs N (300, at least 10)] [--out FILE] [--v2-joins-only]").ConfigureAwait(false);
            return 2;
        }
        if (!Environment.IsPrivilegedProcess)
        {
            await Console.Error.WriteLineAsync("cgroup-cost: run as root (it creates cgroups directly).").ConfigureAwait(false);
            return 2;
        }

        var layout = CgroupLayoutDetector.Detect(CgroupFileSystem.Instance, 0);
        if (!layout.IsUsable)
        {
            await Console.Error.WriteLineAsync("cgroup-cost: cgroups are not usable here:\n" + layout.Describe()).ConfigureAwait(false);
            return 1;
        }
        if (v2JoinsOnly)
        {
            string joins = $"# cgroup-cost --v2-joins-only ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, Linux {Environment.OSVersion.Version}, {Environment.ProcessorCount} cores)\n"
                + layout.Describe() + "\n" + await UnifiedJoinRuns.SyscallLevelAsync(layout, runs * 5).ConfigureAwait(false)
                + await UnifiedJoinRuns.RunAsync(layout, runs).ConfigureAwait(false);
            Console.Write(joins);
            if (outPath is not null)
                await File.WriteAllTextAsync(outPath, joins).ConfigureAwait(false);
            return 0;
        }
        var variants = Variants(layout);
        var random = new Random(20251126);
        var order = variants.ToArray();
        var cpuBefore = CpuUsage.Now();
        string loadBefore = CpuUsage.LoadAverage();
        for (int round = 0; round < WarmupRounds + runs; round++)
        {
            if (round == WarmupRounds)
            {
                foreach (var variant in variants)
                    variant.Reset();
                cpuBefore = CpuUsage.Now();
                loadBefore = CpuUsage.LoadAverage();
            }
            random.Shuffle(order);
            foreach (var variant in order)
                await variant.RunOnceAsync(round).ConfigureAwait(false);
        }
        var cpu = CpuShare.Between(cpuBefore, CpuUsage.Now());

        string report = Report(layout, variants, runs, cpu, loadBefore, CpuUsage.LoadAverage())
            + await JoinAfterIdleAsync(layout, Math.Max(20, runs / 5)).ConfigureAwait(false)
            + await FullRunsAsync(layout, runs).ConfigureAwait(false)
            + "\n" + await UnifiedJoinRuns.SyscallLevelAsync(layout, runs * 5).ConfigureAwait(false)
            + await UnifiedJoinRuns.RunAsync(layout, runs).ConfigureAwait(false);
        Console.Write(report);
        if (outPath is not null)
        {
            await File.WriteAllTextAsync(outPath, report).ConfigureAwait(false);
            Console.WriteLine($"wrote {outPath}");
        }
        return 0;
    }

    /// <summary>
    /// The first cgroup.procs write after the host has written none for a while, against the writes right after it.
    /// Moving a process takes the kernel's cgroup_threadgroup_rwsem for writing, a per-cpu rwsem whose writer must wait
    /// for an RCU grace period unless another writer came recently (rcu_sync): so the join costs far more when launches
    /// are spaced out than back to back, whatever the driver does. The cgroup2 mount option <c>favordynmods</c> keeps
    /// that semaphore in its writer-friendly mode; clone3's CLONE_INTO_CGROUP (v2) does not take it for writing at all.
    /// </summary>
    private static async Task<string> JoinAfterIdleAsync(CgroupLayout layout, int runs)
    {
        var driver = CgroupDriverFactory.Create(layout, CgroupFileSystem.Instance);
        var limits = new CgroupLimits { MemoryBytes = 64L << 20, MaxProcesses = 16 };
        int[] gaps = [0, 2, 10, 30, 100];
        var first = gaps.ToDictionary(g => g, _ => new List<double>(runs));
        var next = gaps.ToDictionary(g => g, _ => new List<double>(runs));
        var order = gaps.ToArray();
        var random = new Random(20251128);
        for (int round = 0; round < runs; round++)
        {
            random.Shuffle(order);
            foreach (int gap in order)
            {
                using var child = Process.Start(new ProcessStartInfo("/bin/sleep", "1000") { UseShellExecute = false })
                    ?? throw new InvalidOperationException("Process.Start(/bin/sleep) returned null.");
                var cgroup = driver.Create(string.Create(CultureInfo.InvariantCulture, $"idle.{gap}.{round}"), limits);
                string pid = child.Id.ToString(CultureInfo.InvariantCulture);
                Thread.Sleep(gap);
                long t0 = Stopwatch.GetTimestamp();
                CgroupFileSystem.Instance.WriteText(cgroup.ProcsFiles[0], pid);
                long t1 = Stopwatch.GetTimestamp();
                foreach (string procs in cgroup.ProcsFiles.Skip(1))
                    CgroupFileSystem.Instance.WriteText(procs, pid);
                long t2 = Stopwatch.GetTimestamp();
                child.Kill();
                await child.WaitForExitAsync().ConfigureAwait(false);
                await cgroup.DestroyAsync().ConfigureAwait(false);
                first[gap].Add(Us(t0, t1));
                next[gap].Add(Us(t1, t2) / Math.Max(1, cgroup.ProcsFiles.Count - 1));
            }
        }
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Joining after an idle gap ({runs} per gap, interleaved): the first cgroup.procs write after no cgroup.procs write for")
            .Append(" GAP ms,\nthen each of the next ones (the other hierarchies); median / p90 / p99 µs.\n");
        foreach (int gap in gaps)
        {
            var f = LatencySummary.Of(first[gap]);
            var n = LatencySummary.Of(next[gap]);
            text.Append(CultureInfo.InvariantCulture, $"  gap {gap,3} ms: first write {f.Median,7:F0} / {f.P90,7:F0} / {f.P99,7:F0}   next writes {n.Median,5:F0} / {n.P90,5:F0} / {n.P99,5:F0}\n");
        }
        return text.Append('\n').ToString();
    }

    /// <summary>Complete RunAsync("/bin/true") runs with each limit alone and all together, interleaved, against none.</summary>
    private static async Task<string> FullRunsAsync(CgroupLayout layout, int runs)
    {
        var spec = SandboxSpec.Command(PeerCommands.Payload);
        var bare = spec.WithoutOwnCgroup();
        var syscalls = new TimingSyscalls(LinuxSyscalls.Instance);
        var runner = new SandboxRunner(syscalls, LinuxSyscalls.Instance);
        var driver = CgroupDriverFactory.Create(layout, CgroupFileSystem.Instance);
        var judge = new CgroupLimits { MemoryBytes = 64L << 20, MaxProcesses = 16 };
        long made = 0;
        (string Name, Func<Task> Run)[] variants =
        [
            ("no limits (no cgroup)", () => RunAsync(bare)),
            ("no limits: the default cgroup of its own (pids 1024)", () => RunAsync(spec)),
            ("no limits, and a memory + pids cgroup made and removed around the run, not joined", async () =>
            {
                var cgroup = driver.Create(string.Create(CultureInfo.InvariantCulture, $"aside.{++made}"), judge);
                _ = cgroup.ReadUsage();
                await RunAsync(bare).ConfigureAwait(false);
                await cgroup.DestroyAsync().ConfigureAwait(false);
            }),
            ("memory 64 MiB", () => RunAsync(spec.WithMemoryLimit(64 << 20))),
            ("pids 16", () => RunAsync(spec.WithProcessLimit(16))),
            ("CPU time 1 s", () => RunAsync(spec.WithCpuTimeLimit(TimeSpan.FromSeconds(1)))),
            ("CPU quota 1 CPU", () => RunAsync(spec.WithCpuQuota(1.0))),
            (PeerCommands.JudgeLimitsDescription, () => RunAsync(PeerCommands.WithJudgeLimits(spec))),
            (PeerCommands.LimitsDescription, () => RunAsync(PeerCommands.WithLimits(spec))),
        ];
        var samples = variants.ToDictionary(v => v.Name, _ => new List<double>(runs));
        var segments = variants.ToDictionary(v => v.Name, _ => new List<double>[] { [], [], [], [] });
        var order = variants.ToArray();
        var random = new Random(20251127);
        var cpuBefore = CpuUsage.Now();
        for (int round = 0; round < WarmupRounds + runs; round++)
        {
            if (round == WarmupRounds)
                cpuBefore = CpuUsage.Now();
            random.Shuffle(order);
            foreach (var (name, run) in order)
            {
                syscalls.Reset();
                long t0 = Stopwatch.GetTimestamp();
                await run().ConfigureAwait(false);
                long t1 = Stopwatch.GetTimestamp();
                if (round < WarmupRounds)
                    continue;
                samples[name].Add(Us(t0, t1));
                var parts = segments[name];
                parts[0].Add(Us(t0, syscalls.LaunchStart));
                parts[1].Add(Us(syscalls.LaunchStart, syscalls.LaunchEnd));
                parts[2].Add(Us(syscalls.LaunchEnd, syscalls.FirstReap));
                parts[3].Add(Us(syscalls.FirstReap, t1));
            }
        }

        async Task RunAsync(SandboxSpec spec) => (await runner.RunAsync(spec).ConfigureAwait(false)).EnsureSuccess();
        var cpu = CpuShare.Between(cpuBefore, CpuUsage.Now());
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Complete RunAsync(/bin/true) runs, default isolation, {runs} per variant, interleaved; median / p99 µs and the median's")
            .Append(" difference from no limits.\n")
            .Append(CultureInfo.InvariantCulture, $"CPU during the runs: {cpu.OwnPercent:F0}% this process and its children, {cpu.KernelPercent:F0}% kernel threads and interrupts, {cpu.OtherPercent:F0}% other processes.\n");
        double baseline = LatencySummary.Of(samples[variants[0].Name]).Median;
        foreach (var (name, _) in variants)
        {
            var s = LatencySummary.Of(samples[name]);
            text.Append(CultureInfo.InvariantCulture, $"  {name,-84} {s.Median,7:F0} / {s.P99,7:F0}   {s.Median - baseline,7:+0;-0;0}\n");
        }
        text.Append("Where it goes (medians, µs): before the launch (validate, plan, cgroup create, pipes) | native launch (clone ..\n")
            .Append("payload exec'd, the join included) | to the exit (payload runs, exits, exit observed) | after (reap, accounting read,\n")
            .Append("destroy, output):\n");
        foreach (var (name, _) in variants)
        {
            var p = segments[name].Select(l => LatencySummary.Of(l).Median).ToArray();
            text.Append(CultureInfo.InvariantCulture, $"  {name,-84} {p[0],6:F0} | {p[1],6:F0} | {p[2],6:F0} | {p[3],6:F0}\n");
        }
        return text.ToString();
    }

    private static List<Variant> Variants(CgroupLayout layout)
    {
        var judge = new CgroupLimits { MemoryBytes = 64L << 20, MaxProcesses = 16 };
        var variants = new List<Variant>();
        if (layout.DriverVersion == 1)
        {
            var before = new TimingCgroupFileSystem(SystemIoCgroupFileSystem.Instance);
            var beforeOptions = CgroupOptions.Default with { V1Controllers = ["cpu", "cpuacct", "freezer", "memory", "pids"] };
            variants.Add(new Variant(
                "before: System.IO seam, all 5 hierarchies, kill + remove; memory + pids",
                before, CgroupDriverFactory.Create(layout, before, beforeOptions), judge, OldDestroy: true));
        }
        var now = new TimingCgroupFileSystem(CgroupFileSystem.Instance);
        var driver = CgroupDriverFactory.Create(layout, now);
        variants.Add(new Variant($"now: cgroup v{driver.Version}, memory + pids (a judge's limits)", now, driver, judge, OldDestroy: false));
        var withQuota = new TimingCgroupFileSystem(CgroupFileSystem.Instance);
        variants.Add(new Variant(
            $"now: cgroup v{driver.Version}, memory + pids + CPU quota", withQuota, CgroupDriverFactory.Create(layout, withQuota),
            judge with { CpuQuota = CpuQuota.FromCpus(1) }, OldDestroy: false));
        if (layout.DriverVersion == 1 && layout.Unified is { ParentDirectory: not null, Writable: true } unified)
        {
            // Hybrid: the cgroup2 mount has no controllers, so only an empty cgroup (no limits) can be made there.
            var v2 = new TimingCgroupFileSystem(CgroupFileSystem.Instance);
            var v2Options = CgroupOptions.Default with { V2Controllers = [] };
            var v2Driver = new CgroupV2Driver(v2, unified, HostProcessStamp.ReadCurrent(CgroupFileSystem.Instance), options: v2Options);
            variants.Add(new Variant($"now: cgroup v2 at {unified.MountPoint}, no controllers (reference)", v2, v2Driver, CgroupLimits.None, OldDestroy: false));
        }
        return variants;
    }

    private static string Report(CgroupLayout layout, List<Variant> variants, int runs, CpuShare cpu, string loadBefore, string loadAfter)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# cgroup-cost: {runs} runs per variant, interleaved, after {WarmupRounds} warm-up rounds")
            .Append(CultureInfo.InvariantCulture, $" ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, Linux {Environment.OSVersion.Version}, {Environment.ProcessorCount} cores)\n");
        text.Append(layout.Describe());
        text.Append(CultureInfo.InvariantCulture, $"favordynmods: {CgroupMountOptions.FavorDynamicModifications()}\n");
        text.Append(CultureInfo.InvariantCulture, $"CPU during the runs: {cpu.OwnPercent:F0}% this process and its children, {cpu.KernelPercent:F0}% kernel threads and interrupts, ")
            .Append(CultureInfo.InvariantCulture, $"{cpu.OtherPercent:F0}% other processes; load average {loadBefore} -> {loadAfter}.\n\n");
        text.Append("create = mkdir in each hierarchy + the limits; join = the pid written into each cgroup.procs (the launcher does\n")
            .Append("this in C before releasing the child); destroy = what the runner does once the sandbox has exited;\n")
            .Append("usage = the accounting read for the result (CPU, peak memory, OOM kills, pids). Medians / p99 in µs.\n\n");
        text.Append(CultureInfo.InvariantCulture, $"{"variant",-72} {"create",13} {"join",13} {"destroy",13} {"create+join+destroy",21} {"usage",13}\n");
        foreach (var v in variants)
        {
            text.Append(CultureInfo.InvariantCulture, $"{v.Name,-72} {Cell(v.Create),13} {Cell(v.Join),13} {Cell(v.Destroy),13} {Cell(v.Total),21} {Cell(v.Usage),13}\n");
        }
        text.Append('\n');
        foreach (var v in variants)
        {
            text.Append(CultureInfo.InvariantCulture, $"{v.Name}: hierarchies {v.Hierarchies}; per run, each file operation: count × mean µs = µs\n");
            foreach (var (op, (count, ticks)) in v.FileSystem.Operations.OrderByDescending(o => o.Value.Ticks))
            {
                double perRun = ticks * 1e6 / Stopwatch.Frequency / runs;
                text.Append(CultureInfo.InvariantCulture, $"  {op,-42} {count / (double)runs,5:F1} × {ticks * 1e6 / Stopwatch.Frequency / count,6:F1} = {perRun,7:F1}\n");
            }
            text.Append('\n');
        }
        return text.ToString();
    }

    private static string Cell(List<double> samples)
    {
        var s = LatencySummary.Of(samples);
        return string.Create(CultureInfo.InvariantCulture, $"{s.Median:F0} / {s.P99:F0}");
    }

    private static double Us(long from, long to) => (to - from) * 1_000_000.0 / Stopwatch.Frequency;

    /// <summary>One way of making, joining and destroying a sandbox cgroup, and its samples.</summary>
    private sealed record Variant(string Name, TimingCgroupFileSystem FileSystem, ICgroupDriver Driver, CgroupLimits Limits, bool OldDestroy)
    {
        public List<double> Create { get; } = [];
        public List<double> Join { get; } = [];
        public List<double> Destroy { get; } = [];
        public List<double> Total { get; } = [];
        public List<double> Usage { get; } = [];
        public string Hierarchies { get; private set; } = "";

        public void Reset()
        {
            FileSystem.Reset();
            Create.Clear();
            Join.Clear();
            Destroy.Clear();
            Total.Clear();
            Usage.Clear();
        }

        public async Task RunOnceAsync(int round)
        {
            // A real, short-lived process to join: started and ended outside the timed parts.
            using var child = Process.Start(new ProcessStartInfo("/bin/sleep", "1000") { UseShellExecute = false })
                ?? throw new InvalidOperationException("Process.Start(/bin/sleep) returned null.");
            long t0 = Stopwatch.GetTimestamp();
            var cgroup = Driver.Create(string.Create(CultureInfo.InvariantCulture, $"cost.{round}"), Limits);
            long t1 = Stopwatch.GetTimestamp();
            cgroup.AddProcess(child.Id);
            long t2 = Stopwatch.GetTimestamp();
            child.Kill();
            await child.WaitForExitAsync().ConfigureAwait(false);
            long t3 = Stopwatch.GetTimestamp();
            _ = cgroup.ReadUsage();
            long t4 = Stopwatch.GetTimestamp();
            if (OldDestroy)
            {
                await cgroup.KillAsync().ConfigureAwait(false);
                await cgroup.RemoveAsync().ConfigureAwait(false);
            }
            else
            {
                await cgroup.DestroyAsync().ConfigureAwait(false);
            }
            long t5 = Stopwatch.GetTimestamp();
            Hierarchies = string.Join(", ", cgroup.ProcsFiles.Select(p => p.Split('/')[4]));
            Create.Add(Us(t0, t1));
            Join.Add(Us(t1, t2));
            Destroy.Add(Us(t4, t5));
            Total.Add(Us(t0, t2) + Us(t4, t5));
            Usage.Add(Us(t3, t4));
        }
    }
}
