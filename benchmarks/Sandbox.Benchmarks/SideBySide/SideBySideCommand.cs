using System.Diagnostics;
using System.Globalization;
using System.Runtime;

namespace Sandbox.Benchmarks.SideBySide;

/// <summary>
/// Runs /bin/true with every contender from this one host process, interleaved (each round runs every
/// contender once, in a shuffled order), timing each complete run with a Stopwatch; first with the
/// host's heap as small as it is, then with a big live managed heap, then small again (so drift over the
/// run shows as a difference between the first and the last pass). Writes a Markdown report
/// and a CSV of every sample.
/// </summary>
internal static class SideBySideCommand
{
    public const string ProcessStartName = "Process.Start";
    public const string UnshareName = "unshare";
    public const string BwrapName = "bwrap";
    public const string SandboxName = "Sandbox";
    public const string SandboxWithLimitsName = "Sandbox, limits";
    public const string SandboxWithQuotaName = "Sandbox, limits+quota";
    public const string RuncName = "runc";
    public const string CrunName = "crun";

    public static async Task<int> RunAsync(SideBySideOptions options)
    {
        string unshare = PeerCommands.Require(PeerCommands.UnshareExecutable, "unshare", "util-linux");
        string bwrap = PeerCommands.Require(PeerCommands.BwrapExecutable, "bwrap", "bubblewrap");
        string runc = PeerCommands.Require(PeerCommands.RuncExecutable, "runc", "runc");
        string crunExecutable = PeerCommands.Require(PeerCommands.CrunExecutable, "crun", "crun");
        // bwrap and unshare make no cgroup: the like-for-like Sandbox run opts out of its own (the default gets one).
        var sandboxSpec = SandboxSpec.Command(PeerCommands.Payload).WithoutOwnCgroup();
        var limitedSpec = PeerCommands.WithJudgeLimits(SandboxSpec.Command(PeerCommands.Payload));
        var quotaSpec = PeerCommands.WithLimits(SandboxSpec.Command(PeerCommands.Payload));
        AppliedIsolation? isolation = null;
        IReadOnlyList<EnforcedLimit>? enforced = null;
        using var bundle = Oci.OciBundle.Create();
        using var crun = new Oci.CrunInMountNamespace(unshare, crunExecutable, bundle.Directory);
        long runcRuns = 0;

        Contender[] contenders =
        [
            new(ProcessStartName, PeerCommands.Payload, () =>
            {
                PeerCommands.RunToCompletion(PeerCommands.Payload, []);
                return ValueTask.CompletedTask;
            }),
            new(UnshareName, PeerCommands.Display(unshare, PeerCommands.UnshareArguments), () =>
            {
                PeerCommands.RunToCompletion(unshare, PeerCommands.UnshareArguments);
                return ValueTask.CompletedTask;
            }),
            new(BwrapName, PeerCommands.Display(bwrap, PeerCommands.BwrapArguments), () =>
            {
                PeerCommands.RunToCompletion(bwrap, PeerCommands.BwrapArguments);
                return ValueTask.CompletedTask;
            }),
            new(SandboxName, "SandboxSpec.Command(\"/bin/true\").WithoutOwnCgroup().RunAsync() — default isolation, no cgroup, like bwrap's", async () =>
            {
                var result = await sandboxSpec.RunAsync().ConfigureAwait(false);
                isolation ??= result.EnsureSuccess().Isolation;
            }),
            new(SandboxWithLimitsName,
                "SandboxSpec.Command(\"/bin/true\").WithMemoryLimit(64 MiB).WithProcessLimit(16).WithCpuTimeLimit(1 s).RunAsync() — default isolation",
                async () => (await limitedSpec.RunAsync().ConfigureAwait(false)).EnsureSuccess()),
            new(SandboxWithQuotaName,
                "the same .WithCpuQuota(1.0) — the limits runc and crun get",
                async () =>
                {
                    var result = await quotaSpec.RunAsync().ConfigureAwait(false);
                    enforced ??= result.EnsureSuccess().Enforced;
                }),
            new(RuncName, $"{runc} run --bundle {bundle.Directory} ID", () =>
            {
                PeerCommands.RunToCompletion(runc, ["run", "--bundle", bundle.Directory, Oci.OciBundle.ContainerId("runc", ++runcRuns)]);
                return ValueTask.CompletedTask;
            }),
            new(CrunName, crun.Command, () =>
            {
                crun.RunOnce();
                return ValueTask.CompletedTask;
            }),
        ];

        var machine = MachineInfo.Describe();
        var random = new Random(options.Seed);
        var passes = new List<PassResult>();

        Console.WriteLine($"side-by-side: {options.Runs} runs per contender after {options.Warmup} warm-up rounds, interleaved");
        passes.Add(await MeasureAsync("minimal heap", contenders, options, random, ballast: null).ConfigureAwait(false));
        Print(passes[^1]);

        if (options.HeapGiB > 0)
        {
            var ballast = new HeapBallast();
            var allocating = Stopwatch.StartNew();
            ballast.Allocate(options.HeapGiB);
            Console.WriteLine($"allocated and touched {ballast.Bytes / (double)(1L << 30):F1} GiB of byte[] in {allocating.Elapsed.TotalSeconds:F1} s");
            string label = $"{options.HeapGiB.ToString(CultureInfo.InvariantCulture)} GiB live heap";
            passes.Add(await MeasureAsync(label, contenders, options, random, ballast).ConfigureAwait(false));
            Print(passes[^1]);
            GC.KeepAlive(ballast.Touch());

            // The minimal heap again, so that drift over the run is not mistaken for the heap's effect.
            ballast.Release();
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            passes.Add(await MeasureAsync("minimal heap, again", contenders, options, random, ballast: null).ConfigureAwait(false));
            Print(passes[^1]);
        }

        string markdown = SideBySideReport.Markdown(options, machine, contenders, passes, isolation, enforced, File.ReadAllText(Path.Combine(bundle.Directory, "config.json")));
        Directory.CreateDirectory(Path.GetDirectoryName(options.OutputPath)!);
        await File.WriteAllTextAsync(options.OutputPath, markdown).ConfigureAwait(false);
        string csvPath = Path.ChangeExtension(options.OutputPath, ".csv");
        await File.WriteAllTextAsync(csvPath, SideBySideReport.Csv(passes)).ConfigureAwait(false);
        Console.WriteLine($"wrote {options.OutputPath} and {csvPath}");
        return 0;
    }

    private static async Task<PassResult> MeasureAsync(string label, Contender[] contenders, SideBySideOptions options, Random random, HeapBallast? ballast)
    {
        Console.WriteLine($"-- {label}: warming up");
        var order = contenders.ToArray();
        // At least the asked rounds, then until the JIT has gone quiet (no method compiled, tier-ups included,
        // for a whole stretch of rounds): background re-compilation otherwise competes for the cores.
        const int QuietStretch = 50, MaxWarmupRounds = 2000;
        long compiled = JitInfo.GetCompiledMethodCount();
        int warmupRounds = 0, quietRounds = 0;
        while (warmupRounds < MaxWarmupRounds && (warmupRounds < options.Warmup || quietRounds < QuietStretch))
        {
            random.Shuffle(order);
            foreach (var contender in order)
                await contender.RunOnce().ConfigureAwait(false);
            warmupRounds++;
            long now = JitInfo.GetCompiledMethodCount();
            quietRounds = now == compiled ? quietRounds + 1 : 0;
            compiled = now;
        }
        Console.WriteLine($"-- {label}: {warmupRounds} warm-up rounds (the last {quietRounds} compiled nothing)");

        await WaitForQuietAsync(options.WaitQuietSeconds).ConfigureAwait(false);

        // Settle the heap outside the measurement: what is live now is what the pass runs with.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
        GC.WaitForPendingFinalizers();
        long gcHeap = GC.GetGCMemoryInfo().HeapSizeBytes;
        long rss = ResidentSetBytes();
        Console.WriteLine($"-- {label}: measuring (GC heap {gcHeap / (double)(1 << 20):F0} MiB, RSS {rss / (double)(1 << 20):F0} MiB)");

        var samples = contenders.ToDictionary(c => c.Name, _ => new List<double>(options.Runs));
        var gcBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        string loadBefore = CpuUsage.LoadAverage();
        var cpuBefore = CpuUsage.Now();
        var elapsed = Stopwatch.StartNew();
        for (int round = 0; round < options.Runs; round++)
        {
            random.Shuffle(order);
            foreach (var contender in order)
            {
                long start = Stopwatch.GetTimestamp();
                await contender.RunOnce().ConfigureAwait(false);
                long end = Stopwatch.GetTimestamp();
                samples[contender.Name].Add((end - start) * 1_000_000.0 / Stopwatch.Frequency);
            }
        }
        elapsed.Stop();
        var cpu = CpuShare.Between(cpuBefore, CpuUsage.Now());
        string loadAfter = CpuUsage.LoadAverage();
        var collections = (GC.CollectionCount(0) - gcBefore.Item1, GC.CollectionCount(1) - gcBefore.Item2, GC.CollectionCount(2) - gcBefore.Item3);
        if (ballast is not null)
            GC.KeepAlive(ballast.Touch());
        if (cpu.OtherPercent > 10)
            Console.WriteLine($"   warning: {cpu.OtherPercent:F0}% of the CPU went to other processes during this pass (load {loadBefore} -> {loadAfter}); the figures are noisy");
        return new PassResult(label, ballast?.Bytes ?? 0, gcHeap, rss, samples, collections, elapsed.Elapsed, cpu, loadBefore, loadAfter, warmupRounds);
    }

    /// <summary>Waits (up to <paramref name="seconds"/>) until other work takes under 10% of the CPU over a second.</summary>
    private static async Task WaitForQuietAsync(int seconds)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed.TotalSeconds < seconds)
        {
            var before = CpuUsage.Now();
            await Task.Delay(1000).ConfigureAwait(false);
            var share = CpuShare.Between(before, CpuUsage.Now());
            if (share.OtherPercent < 10)
                return;
            Console.WriteLine($"   waiting for a quiet machine: {share.OtherPercent:F0}% of the CPU is going to other processes");
            await Task.Delay(4000).ConfigureAwait(false);
        }
    }

    private static void Print(PassResult pass)
    {
        Console.WriteLine($"   {"contender",-14} {"median µs",10} {"p99 µs",10} {"mean µs",10} {"min µs",10}");
        foreach (var (name, _) in pass.Samples)
        {
            var s = pass.Summary(name);
            Console.WriteLine($"   {name,-14} {s.Median,10:F0} {s.P99,10:F0} {s.Mean,10:F0} {s.Min,10:F0}");
        }
    }

    private static long ResidentSetBytes()
    {
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }
}
