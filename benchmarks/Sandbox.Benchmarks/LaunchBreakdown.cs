using System.Diagnostics;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Sandbox.Benchmarks.SideBySide;
using Sandbox.Interop;

namespace Sandbox.Benchmarks;

/// <summary>
/// Where the time of one <c>RunAsync("/bin/true")</c> goes, for profiling the launch path:
/// <c>launch-breakdown [--runs N] [--no-variants]</c>. Runs through a private <see cref="SandboxRunner"/> whose system
/// calls are timed, then repeats with fewer namespaces to show what each costs.
/// </summary>
internal static class LaunchBreakdown
{
    public static async Task<int> RunAsync(string[] args)
    {
        int runs = 300;
        bool byNamespaces = true;
        bool withLimits = false;
        bool byCgroup = false;
        int gapMs = 0;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--no-variants")
            {
                byNamespaces = false;
                continue;
            }
            if (args[i] == "--limits")
            {
                withLimits = true;
                continue;
            }
            if (args[i] == "--runs" && i + 1 < args.Length && int.TryParse(args[++i], CultureInfo.InvariantCulture, out runs) && runs >= 10)
                continue;
            if (args[i] == "--by-cgroup")
            {
                byCgroup = true;
                continue;
            }
            if (args[i] == "--gap-ms" && i + 1 < args.Length && int.TryParse(args[++i], CultureInfo.InvariantCulture, out gapMs) && gapMs >= 0)
                continue;
            await Console.Error.WriteLineAsync("usage: launch-breakdown [--runs N (300, at least 10)] [--no-variants] [--limits] [--by-cgroup [--gap-ms N (0)]]").ConfigureAwait(false);
            return 2;
        }

        var syscalls = new TimingSyscalls(LinuxSyscalls.Instance);
        var runner = new SandboxRunner(syscalls, LinuxSyscalls.Instance);
        if (byCgroup)
            return await ByCgroupAsync(runner, syscalls, runs, gapMs).ConfigureAwait(false);
        var spec = SandboxSpec.Command(PeerCommands.Payload);
        if (withLimits)
            spec = PeerCommands.WithLimits(spec);

        for (int i = 0; i < 50; i++)
            (await runner.RunAsync(spec).ConfigureAwait(false)).EnsureSuccess();

        var firstCpuBefore = CpuUsage.Now();
        var before = new List<double>();
        var native = new List<double>();
        var toReap = new List<double>();
        var after = new List<double>();
        var total = new List<double>();
        var wall = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            syscalls.Reset();
            long t0 = Stopwatch.GetTimestamp();
            var result = await runner.RunAsync(spec).ConfigureAwait(false);
            long t1 = Stopwatch.GetTimestamp();
            result.EnsureSuccess();
            before.Add(Us(t0, syscalls.LaunchStart));
            native.Add(Us(syscalls.LaunchStart, syscalls.LaunchEnd));
            toReap.Add(Us(syscalls.LaunchEnd, syscalls.FirstReap));
            after.Add(Us(syscalls.FirstReap, t1));
            total.Add(Us(t0, t1));
            wall.Add(result.WallTime.TotalMicroseconds);
        }

        Console.WriteLine($"RunAsync(/bin/true), default isolation{(withLimits ? ", " + PeerCommands.LimitsDescription : "")}, {runs} runs (µs):");
        Console.WriteLine($"  {"segment",-62} {"median",8} {"p99",8}");
        Row("validate + plan + write + pipes + hand-off to launcher thread", before);
        Row("native sbx_launch: clone .. payload exec'd (error pipe EOF)", native);
        Row("launch returned .. exit observed and first waitid", toReap);
        Row("first waitid .. RunAsync returned (reap, report, output)", after);
        Row("total RunAsync", total);
        Row("SandboxResult.WallTime (launch start .. exit observed)", wall);
        var firstCpu = CpuShare.Between(firstCpuBefore, CpuUsage.Now());
        Console.WriteLine($"CPU during these runs: {firstCpu.OwnPercent:F0}% this process and its children, {firstCpu.KernelPercent:F0}% kernel threads and interrupts, " +
            $"{firstCpu.OtherPercent:F0}% other processes.");

        if (!byNamespaces)
            return 0;
        Console.WriteLine();
        Console.WriteLine($"By namespaces (host is {(Environment.IsPrivilegedProcess ? "root" : "unprivileged")}), {runs} runs each, interleaved " +
            "(each round runs every variant once, in a shuffled order); median / p99 µs of RunAsync and of sbx_launch:");
        SandboxNamespaces[] namespaceSets =
        [
            SandboxNamespaces.All,
            SandboxNamespaces.All & ~SandboxNamespaces.Network,
            SandboxNamespaces.All & ~SandboxNamespaces.Cgroup,
            SandboxNamespaces.All & ~SandboxNamespaces.Ipc,
            SandboxNamespaces.All & ~SandboxNamespaces.Uts,
            SandboxNamespaces.User | SandboxNamespaces.Pid | SandboxNamespaces.Mount,
            SandboxNamespaces.Pid | SandboxNamespaces.Mount,
        ];
        var variants = namespaceSets.Select(spec.WithNamespaces).Where(v => v.Validate(Environment.IsPrivilegedProcess).Count == 0).ToArray();
        var totals = variants.ToDictionary(v => v, _ => new List<double>(runs));
        var launches = variants.ToDictionary(v => v, _ => new List<double>(runs));
        var random = new Random(20251126);
        var order = variants.ToArray();
        for (int i = 0; i < 20; i++)
            foreach (var variant in order)
                (await runner.RunAsync(variant).ConfigureAwait(false)).EnsureSuccess();
        var cpuBefore = CpuUsage.Now();
        for (int i = 0; i < runs; i++)
        {
            random.Shuffle(order);
            foreach (var variant in order)
            {
                syscalls.Reset();
                long t0 = Stopwatch.GetTimestamp();
                (await runner.RunAsync(variant).ConfigureAwait(false)).EnsureSuccess();
                totals[variant].Add(Us(t0, Stopwatch.GetTimestamp()));
                launches[variant].Add(Us(syscalls.LaunchStart, syscalls.LaunchEnd));
            }
        }
        var cpu = CpuShare.Between(cpuBefore, CpuUsage.Now());
        foreach (var variant in variants)
        {
            var t = LatencySummary.Of(totals[variant]);
            var l = LatencySummary.Of(launches[variant]);
            Console.WriteLine($"  {variant.Namespaces,-55} RunAsync {t.Median,6:F0} / {t.P99,6:F0}   sbx_launch {l.Median,6:F0} / {l.P99,6:F0}");
        }
        Console.WriteLine($"CPU during these runs: {cpu.OwnPercent:F0}% this process and its children, {cpu.KernelPercent:F0}% kernel threads and interrupts, " +
            $"{cpu.OtherPercent:F0}% other processes.");
        return 0;
    }

    /// <summary>
    /// <c>--by-cgroup</c>: the segments of a run without a cgroup, with the default one, with a judge's limits and with a CPU
    /// quota too, interleaved (each round runs every variant once, shuffled), optionally <c>--gap-ms</c> apart (as in the
    /// side by side, where other contenders run in between and the runner's work beside launches gets its moment).
    /// </summary>
    private static async Task<int> ByCgroupAsync(SandboxRunner runner, TimingSyscalls syscalls, int runs, int gapMs)
    {
        var payload = SandboxSpec.Command(PeerCommands.Payload);
        (string Name, SandboxSpec Spec)[] variants =
        [
            ("no cgroup (WithoutOwnCgroup)", payload.WithoutOwnCgroup()),
            ("default cgroup", payload),
            ("judge limits", PeerCommands.WithJudgeLimits(payload)),
            ("judge limits + CPU quota", PeerCommands.WithLimits(payload)),
        ];
        string[] segments = ["validate .. launcher thread", "native launch", "launch .. exit seen", "exit seen .. result", "total"];
        var samples = variants.ToDictionary(v => v.Name, _ => segments.Select(_ => new List<double>(runs)).ToArray());
        var random = new Random(20251126);
        var order = variants.ToArray();
        for (int i = 0; i < 30; i++)
            foreach (var v in order)
                (await runner.RunAsync(v.Spec).ConfigureAwait(false)).EnsureSuccess();
        var cpuBefore = CpuUsage.Now();
        for (int i = 0; i < runs; i++)
        {
            random.Shuffle(order);
            foreach (var (name, spec) in order)
            {
                if (gapMs > 0) await Task.Delay(gapMs).ConfigureAwait(false);
                syscalls.Reset();
                long t0 = Stopwatch.GetTimestamp();
                (await runner.RunAsync(spec).ConfigureAwait(false)).EnsureSuccess();
                long t1 = Stopwatch.GetTimestamp();
                var s = samples[name];
                s[0].Add(Us(t0, syscalls.LaunchStart));
                s[1].Add(Us(syscalls.LaunchStart, syscalls.LaunchEnd));
                s[2].Add(Us(syscalls.LaunchEnd, syscalls.FirstReap));
                s[3].Add(Us(syscalls.FirstReap, t1));
                s[4].Add(Us(t0, t1));
            }
        }
        var cpu = CpuShare.Between(cpuBefore, CpuUsage.Now());
        Console.WriteLine($"RunAsync(/bin/true), default isolation, by cgroup, {runs} rounds interleaved{(gapMs > 0 ? $", {gapMs} ms apart" : "")}; medians, µs (each segment's median against the first variant's):");
        Console.WriteLine($"  {"variant",-30} {string.Join(" ", segments.Select(n => $"{n,22}"))}");
        var first = samples[variants[0].Name].Select(l => LatencySummary.Of(l).Median).ToArray();
        foreach (var (name, _) in variants)
        {
            var medians = samples[name].Select(l => LatencySummary.Of(l).Median).ToArray();
            Console.WriteLine($"  {name,-30} {string.Join(" ", medians.Select((m, i) => $"{$"{m:F0} ({m - first[i]:+0;-0;0})",22}"))}");
        }
        Console.WriteLine($"CPU during these runs: {cpu.OwnPercent:F0}% this process and its children, {cpu.KernelPercent:F0}% kernel threads and interrupts, {cpu.OtherPercent:F0}% other processes. " +
            "The first waitid is the exit watcher's reap: the last two segments split there.");
        return 0;
    }

    private static double Us(long from, long to) => (to - from) * 1_000_000.0 / Stopwatch.Frequency;

    private static void Row(string name, List<double> samples)
    {
        var s = LatencySummary.Of(samples);
        Console.WriteLine($"  {name,-62} {s.Median,8:F0} {s.P99,8:F0}");
    }
}
