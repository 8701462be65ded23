using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sandbox.Benchmarks.SideBySide;
using Sandbox.Images;
using Sandbox.Images.Layers;
using Sandbox.Images.Store;

namespace Sandbox.Benchmarks.Images;

/// <summary>
/// <c>overlay-cost [--runs N] [--warmup N] [--out FILE]</c>: what an image root (an overlay of cached layers under a
/// throw-away upper layer) adds to a cold run, against the default root of host directories. Every contender runs the
/// same static busybox's <c>true</c>; every round runs each contender once, in a shuffled order; medians, p90 and the
/// added milliseconds per run, all from this one run.
/// </summary>
internal static class OverlayCostCommand
{
    private const string Usage = "usage: overlay-cost [--runs N (300, at least 20)] [--warmup N (30)] [--out FILE]";

    /// <summary>A way to run the payload: <paramref name="Prepare"/> makes the spec (and what must outlive the run) before each run.</summary>
    private sealed record Contender(string Name, string Baseline, Func<(SandboxSpec Spec, IDisposable? Hold)> Prepare);

    /// <summary>Where one run's time went, in µs: preparing the spec, RunAsync up to the native launch, the native launch (clone .. payload exec'd), the rest (payload run, exit, reap, result).</summary>
    private readonly record struct Sample(double Prepare, double BeforeLaunch, double Launch, double AfterLaunch, double Cpu)
    {
        public double Total => Prepare + BeforeLaunch + Launch + AfterLaunch;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        int runs = 300, warmup = 30;
        string? output = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--runs" && i + 1 < args.Length && int.TryParse(args[++i], CultureInfo.InvariantCulture, out runs) && runs >= 20) continue;
            if (args[i] == "--warmup" && i + 1 < args.Length && int.TryParse(args[++i], CultureInfo.InvariantCulture, out warmup) && warmup >= 0) continue;
            if (args[i] == "--out" && i + 1 < args.Length)
            {
                output = args[++i];
                continue;
            }
            await Console.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }

        bool root = Interop.FileSystemCalls.Geteuid() == 0;
        using var scratch = BenchScratch.Create("sandbox-overlay-cost-");
        var one = BenchImageLayout.Write(scratch.Combine("one"), "1", BenchImages.OneLayer(), ["/bin/busybox", "true"]);
        var five = BenchImageLayout.Write(scratch.Combine("five"), "5", BenchImages.FiveLayers(), ["/bin/busybox", "true"]);
        var oneName = ImageReference.Parse("bench/busybox:1");
        var fiveName = ImageReference.Parse("bench/busybox:5");

        // The store unpacks as this user would (as root: owners kept, opaque marks as trusted.overlay.* and user.overlay.*).
        // As root the main contenders leave the user namespace out, the host root included (both sides of each ratio have
        // the same namespaces); a second pair keeps it, as a root host's default does: the image's layers are then
        // idmapped into the sandbox's user namespace (a detached, idmapped copy of each layer per run).
        var store = await BenchImages.ImportAsync(scratch.Combine("store"), LayerApplyOptions.ForCurrentUser(), one, oneName).ConfigureAwait(false);
        await BenchImages.ImportAsync(store.Root, LayerApplyOptions.ForCurrentUser(), five, fiveName).ConfigureAwait(false);
        using var oneLease = store.Lease(oneName);
        using var fiveLease = store.Lease(fiveName);

        var host = SandboxSpec.Command(BenchImages.Payload[0], BenchImages.Payload[1..]);
        if (root) host = host.WithoutNamespaces(SandboxNamespaces.User);
        var onImageOne = host.WithImage(oneLease);
        var onImageFive = host.WithImage(fiveLease);
        var contenders = new List<Contender>
        {
            new("host root", "", () => (host, null)),
            new("image, 1 layer", "host root", () => (onImageOne, null)),
            new("image, 5 layers", "host root", () => (onImageFive, null)),
            new("image, 5 layers, Lease + WithImage per run", "host root", () =>
            {
                var lease = store.Lease(fiveName);
                return (host.WithImage(lease), lease);
            }),
        };
        if (root)
        {
            var hostInUserNamespace = host.WithNamespaces(SandboxNamespaces.All);
            var idmappedFive = hostInUserNamespace.WithImage(fiveLease);
            contenders.Add(new("host root, user namespace", "", () => (hostInUserNamespace, null)));
            contenders.Add(new("image, 5 layers, user namespace (idmapped layers)", "host root, user namespace", () => (idmappedFive, null)));
        }
        var syscalls = new TimingSyscalls(Interop.LinuxSyscalls.Instance);
        var runner = new SandboxRunner(syscalls, Interop.LinuxSyscalls.Instance);
        string namespaces = root ? "default isolation without the user namespace (root host, root's store), and with it for the last pair (the image's layers idmapped)" : "default isolation (rootless store, user.overlay.* xattrs)";

        Console.WriteLine($"images: {one.Describe()}; {five.Describe()}");
        Console.WriteLine($"store: {store.Root}; {runs} rounds of {contenders.Count} contenders, shuffled each round, after {warmup} warm-up rounds");
        var random = new Random(1);
        for (int i = 0; i < warmup; i++)
            foreach (var c in contenders) await MeasureAsync(runner, syscalls, c).ConfigureAwait(false);
        var samples = contenders.ToDictionary(c => c.Name, _ => new List<Sample>());
        var cpuBefore = CpuUsage.Now();
        string loadBefore = CpuUsage.LoadAverage();
        for (int round = 0; round < runs; round++)
        {
            foreach (var c in contenders.OrderBy(_ => random.Next()))
                samples[c.Name].Add(await MeasureAsync(runner, syscalls, c).ConfigureAwait(false));
        }
        var cpu = CpuShare.Between(cpuBefore, CpuUsage.Now());
        string report = Report(contenders, samples, one, five, runs, cpu, loadBefore, scratch.FileSystem(), namespaces);
        Console.Write(report);
        if (output is not null) await File.WriteAllTextAsync(output, report).ConfigureAwait(false);
        return 0;
    }

    private static async Task<Sample> MeasureAsync(SandboxRunner runner, TimingSyscalls syscalls, Contender contender)
    {
        syscalls.Reset();
        double cpu0 = ProcessCpuTime.NowMicroseconds();
        long t0 = Stopwatch.GetTimestamp();
        var (spec, hold) = contender.Prepare();
        long t1 = Stopwatch.GetTimestamp();
        try
        {
            (await runner.RunAsync(spec).ConfigureAwait(false)).EnsureSuccess();
        }
        finally
        {
            hold?.Dispose();
        }
        long t2 = Stopwatch.GetTimestamp();
        double cpu = ProcessCpuTime.NowMicroseconds() - cpu0;
        return new Sample(Us(t0, t1), Us(t1, syscalls.LaunchStart), Us(syscalls.LaunchStart, syscalls.LaunchEnd), Us(syscalls.LaunchEnd, t2), cpu);
    }

    private static double Median(List<double> values) => LatencySummary.Of(values).Median;

    private static double Us(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMicroseconds;

    private static string Report(List<Contender> contenders, Dictionary<string, List<Sample>> samples, BenchImageLayout one, BenchImageLayout five, int runs, CpuShare cpu, string load, string fileSystem, string namespaces)
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.AppendLine(inv, $"# Overlay cost: an image root against the host root, per cold run");
        text.AppendLine();
        text.AppendLine(inv, $"{BenchMachine.Describe()}.");
        text.AppendLine(inv, $"Payload: `{string.Join(' ', BenchImages.Payload)}` (busybox-static: the same binary on the host root and in the images), {namespaces}. " +
            $"Images: {one.Describe()}; {five.Describe()}. Layers cached in a store on {fileSystem}.");
        text.AppendLine(inv, $"{runs} rounds, every contender once per round in a shuffled order; CPU meanwhile: {cpu.OwnPercent:F0}% this process and its sandboxes, " +
            $"{cpu.KernelPercent:F0}% kernel threads, {cpu.OtherPercent:F0}% other processes (load average {load} -> {CpuUsage.LoadAverage()}).");
        text.AppendLine();
        text.AppendLine("| contender | median | p90 | p99 | added per run (median) | added (p90) | ratio | CPU per run (median) | added CPU |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var c in contenders)
        {
            var s = LatencySummary.Of(samples[c.Name].ConvertAll(x => x.Total));
            string added = "", addedP90 = "", ratio = "", addedCpu = "";
            double cpuMedian = Median(samples[c.Name].ConvertAll(x => x.Cpu));
            if (c.Baseline.Length > 0)
            {
                var b = LatencySummary.Of(samples[c.Baseline].ConvertAll(x => x.Total));
                added = $"{(s.Median - b.Median) / 1000:+0.00;-0.00} ms";
                addedP90 = $"{(s.P90 - b.P90) / 1000:+0.00;-0.00} ms";
                ratio = $"{s.Median / b.Median:F2}x";
                addedCpu = $"{(cpuMedian - Median(samples[c.Baseline].ConvertAll(x => x.Cpu))) / 1000:+0.00;-0.00} ms";
            }
            text.AppendLine(inv, $"| {c.Name} | {s.Median / 1000:F2} ms | {s.P90 / 1000:F2} ms | {s.P99 / 1000:F2} ms | {added} | {addedP90} | {ratio} | {cpuMedian / 1000:F2} ms | {addedCpu} |");
        }
        text.AppendLine();
        text.AppendLine("Where the time goes (medians of each segment, µs; the segments' medians need not add up to the total's):");
        text.AppendLine();
        text.AppendLine("| contender | Lease + WithImage | RunAsync .. native launch (validate, plan, write) | native launch (clone .. payload exec'd) | payload, exit, reap, result |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var c in contenders)
        {
            var x = samples[c.Name];
            text.AppendLine(inv, $"| {c.Name} | {Median(x.ConvertAll(v => v.Prepare)):F0} | {Median(x.ConvertAll(v => v.BeforeLaunch)):F0} | {Median(x.ConvertAll(v => v.Launch)):F0} | {Median(x.ConvertAll(v => v.AfterLaunch)):F0} |");
        }
        text.AppendLine();
        text.AppendLine("Added = the contender's median (or p90) minus its baseline's (the host root with the same namespaces). Target: an image root adds <= 0.5 ms per run.");
        text.AppendLine("CPU = user + system time of this process and the sandbox's processes (getrusage of self and reaped children) during the run, which other jobs on the machine disturb less than wall time; " +
            "the kernel's work in its own threads (e.g. tearing the namespaces and mounts down after the exit) is not in it.");
        return text.ToString();
    }
}
