using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sandbox.Benchmarks.SideBySide;
using Sandbox.Images;
using Sandbox.Images.Oci;
using Sandbox.Images.Registry;
using Sandbox.Images.Store;

namespace Sandbox.Benchmarks.Images;

/// <summary>
/// <c>pull-vs-skopeo [--rounds N] [--no-cli] [--cli PATH] [--scratch DIR] [--out FILE]</c>: a real registry
/// (docker-registry) on loopback holds a five-layer image pushed with skopeo; every round pulls it, in a shuffled order,
/// with <c>skopeo copy</c> to an OCI layout (the target's yardstick: blobs only, nothing unpacked), with <c>skopeo copy</c>
/// to containers-storage with the overlay driver (as root: what <c>podman pull</c> does, every layer unpacked, the
/// like-for-like peer of the eager pull), with Sandbox's <see cref="ImageStore.PullAsync(RegistryClient, ImageReference, ImagePullOptions, IProgress{BlobProgress}?, CancellationToken)"/>
/// into a clean store (in this process) eagerly (every layer unpacked) and with <see cref="LayerUnpacking.OnFirstUse"/> (blobs only:
/// the like-for-like of skopeo to an OCI layout), with the <c>sandbox pull</c> CLI (and <c>--no-unpack</c>) into a clean store, and,
/// to tell the network from the unpacking, with Sandbox's
/// <see cref="RegistryClient"/> reading every blob without storing it. Medians; ratio = skopeo's time ÷ ours.
/// </summary>
internal static class PullVsSkopeoCommand
{
    private const string Usage = "usage: pull-vs-skopeo [--rounds N (9, at least 3)] [--no-cli] [--cli PATH] [--scratch DIR (/var/tmp)] [--out FILE]";
    private const string SkopeoOci = "skopeo copy docker:// oci:";
    private const string SkopeoStorage = "skopeo copy docker:// containers-storage: (overlay driver)";
    private const string BlobsOnly = "Sandbox RegistryClient, blobs read, not stored";
    private const string Eager = "Sandbox ImageStore.PullAsync (Eager)";
    private const string OnFirstUse = "Sandbox ImageStore.PullAsync (OnFirstUse)";
    private const string OnFirstUseThenUnpack = "Sandbox ImageStore.PullAsync (OnFirstUse) + UnpackAsync";
    private const string CliEager = "sandbox pull (CLI)";
    private const string CliOnFirstUse = "sandbox pull --no-unpack (CLI)";

    private sealed record Contender(string Name, Func<string, Task> PullAsync);

    private readonly record struct Sample(double WallMs, double CpuMs);

    /// <summary>USER_HZ, the unit of /proc/PID/stat's times (100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = 9;
        bool withCli = true;
        string? output = null, cli = null, scratchParent = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--rounds" && i + 1 < args.Length && int.TryParse(args[++i], CultureInfo.InvariantCulture, out rounds) && rounds >= 3) continue;
            if (args[i] == "--no-cli")
            {
                withCli = false;
                continue;
            }
            if (args[i] == "--cli" && i + 1 < args.Length)
            {
                cli = args[++i];
                continue;
            }
            if (args[i] == "--out" && i + 1 < args.Length)
            {
                output = args[++i];
                continue;
            }
            if (args[i] == "--scratch" && i + 1 < args.Length && Directory.Exists(args[i + 1]))
            {
                scratchParent = args[++i];
                continue;
            }
            await Console.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }
        cli ??= FindCli();
        if (withCli && (cli is null || !File.Exists(cli)))
        {
            await Console.Error.WriteLineAsync($"pull-vs-skopeo: the sandbox CLI was not found ({cli ?? "src/Sandbox.Cli/bin/Release/net10.0/Sandbox.Cli"}): build the solution in Release, give --cli PATH, or --no-cli.").ConfigureAwait(false);
            return 2;
        }

        using var scratch = BenchScratch.Create("sandbox-pull-bench-", scratchParent);
        var layout = BenchImageLayout.Write(scratch.Combine("layout"), "v1", BenchImages.ApplicationImage(), ["/bin/sh"]);
        Directory.CreateDirectory(scratch.Combine("registry"));
        using var registry = await LoopbackRegistry.StartAsync(scratch.Combine("registry")).ConfigureAwait(false);
        string reference = $"{registry.Host}/bench/app:{layout.Tag}";
        ToolProcess.Run("skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false", $"oci:{layout.Directory}:{layout.Tag}", $"docker://{reference}");
        var parsed = ImageReference.Parse(reference);
        Console.WriteLine($"image {reference}: {layout.Describe()}");

        var contenders = new List<Contender>
        {
            new(SkopeoOci, target =>
            {
                ToolProcess.Run("skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", $"docker://{reference}", $"oci:{target}:{layout.Tag}");
                return Task.CompletedTask;
            }),
            new(Eager, async target =>
            {
                var store = ImageStore.Open(new ImageStoreOptions { Root = target });
                using var client = new RegistryClient();
                await store.PullAsync(client, parsed).ConfigureAwait(false);
            }),
            new(OnFirstUse, async target =>
            {
                var store = ImageStore.Open(new ImageStoreOptions { Root = target });
                using var client = new RegistryClient();
                await store.PullAsync(client, parsed, new ImagePullOptions().WithUnpacking(LayerUnpacking.OnFirstUse)).ConfigureAwait(false);
            }),
            new(OnFirstUseThenUnpack, async target =>
            {
                var store = ImageStore.Open(new ImageStoreOptions { Root = target });
                using var client = new RegistryClient();
                await store.PullAsync(client, parsed, new ImagePullOptions().WithUnpacking(LayerUnpacking.OnFirstUse)).ConfigureAwait(false);
                await store.UnpackAsync(parsed).ConfigureAwait(false);
            }),
            new(BlobsOnly, async _ =>
            {
                using var client = new RegistryClient();
                using var source = await RegistryImageSource.OpenAsync(client, parsed).ConfigureAwait(false);
                var image = source.Resolve(null, null);
                await Parallel.ForEachAsync(image.Manifest.Layers, async (descriptor, ct) =>
                {
                    await using var blob = await client.OpenBlobAsync(parsed, descriptor, cancellationToken: ct).ConfigureAwait(false);
                    await blob.CopyToAsync(Stream.Null, ct).ConfigureAwait(false);
                }).ConfigureAwait(false);
            }),
        };
        if (Interop.FileSystemCalls.Geteuid() == 0)
            contenders.Insert(1, new(SkopeoStorage, target =>
            {
                // The overlay driver mounts its home privately on itself; unmounted before the directory is removed.
                ToolProcess.Run("skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", $"docker://{reference}",
                    $"containers-storage:[overlay@{target}/root+{target}/run]bench/app:{layout.Tag}");
                return Task.CompletedTask;
            }));
        if (withCli)
        {
            contenders.Add(new(CliEager, target =>
            {
                ToolProcess.Run(cli!, "pull", reference, "--store", target);
                return Task.CompletedTask;
            }));
            contenders.Add(new(CliOnFirstUse, target =>
            {
                ToolProcess.Run(cli!, "pull", reference, "--store", target, "--no-unpack");
                return Task.CompletedTask;
            }));
        }

        Console.WriteLine($"{rounds} rounds of {contenders.Count} contenders, shuffled each round, after one warm-up round; destinations in {scratch.Path} ({scratch.FileSystem()})");
        foreach (var c in contenders) await MeasureAsync(c, scratch).ConfigureAwait(false);
        var samples = contenders.ToDictionary(c => c.Name, _ => new List<Sample>());
        var random = new Random(1);
        var cpuBefore = CpuUsage.Now();
        string loadBefore = CpuUsage.LoadAverage();
        for (int round = 0; round < rounds; round++)
            foreach (var c in contenders.OrderBy(_ => random.Next()))
                samples[c.Name].Add(await MeasureAsync(c, scratch).ConfigureAwait(false));
        var cpu = CpuShare.Between(cpuBefore, CpuUsage.Now());

        string report = Report(contenders, samples, layout, rounds, cpu, loadBefore, scratch.FileSystem(), withCli ? cli! : null);
        Console.Write(report);
        if (output is not null) await File.WriteAllTextAsync(output, report).ConfigureAwait(false);
        return 0;
    }

    /// <summary>
    /// One pull into a fresh directory: wall ms, and CPU ms of this process and the children it waited for (the tools;
    /// not the registry) — the fairer figure when other jobs compete for the CPU. The directory is removed afterwards (not timed).
    /// </summary>
    private static async Task<Sample> MeasureAsync(Contender contender, BenchScratch scratch)
    {
        string target = scratch.Combine("pull-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            long cpu0 = CpuUsage.Now().Own;
            long t0 = Stopwatch.GetTimestamp();
            await contender.PullAsync(target).ConfigureAwait(false);
            double wall = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            return new Sample(wall, (CpuUsage.Now().Own - cpu0) * 1000.0 / TicksPerSecond);
        }
        finally
        {
            foreach (string mount in MountsUnder(target))
                ToolProcess.Run("umount", "-l", mount);
            LayerFixture.Remove(target);
        }
    }

    /// <summary>Mount points at or under <paramref name="directory"/>, deepest first.</summary>
    private static List<string> MountsUnder(string directory) =>
        [.. File.ReadLines("/proc/self/mounts").Select(l => l.Split(' ')[1])
            .Where(m => m == directory || m.StartsWith(directory + "/", StringComparison.Ordinal))
            .OrderByDescending(m => m.Length)];

    private static string? FindCli()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sandbox.sln")))
                return Path.Combine(dir.FullName, "src", "Sandbox.Cli", "bin", "Release", "net10.0", "Sandbox.Cli");
        return null;
    }

    private static string Report(List<Contender> contenders, Dictionary<string, List<Sample>> samples, BenchImageLayout layout, int rounds, CpuShare cpu, string load, string fileSystem, string? cli)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("# Pull from a loopback registry: Sandbox against skopeo");
        text.AppendLine();
        text.AppendLine(inv, $"{BenchMachine.Describe()}; {ToolProcess.Version("skopeo")}; docker-registry {DockerRegistryVersion()}.");
        text.AppendLine(inv, $"Image: {layout.Describe()}; pushed with skopeo to docker-registry on 127.0.0.1 (plain HTTP, filesystem storage). " +
            $"Destinations: fresh directories on {fileSystem}, removed after each pull (not timed).{(cli is null ? "" : $" CLI: `{cli} pull REF --store DIR`.")}");
        text.AppendLine(inv, $"{rounds} rounds after one warm-up round, every contender once per round in a shuffled order; CPU meanwhile: {cpu.OwnPercent:F0}% this process and its children, " +
            $"{cpu.KernelPercent:F0}% kernel threads, {cpu.OtherPercent:F0}% other processes (load average {load} -> {CpuUsage.LoadAverage()}).");
        text.AppendLine();
        double skopeo = Median(samples[SkopeoOci].ConvertAll(x => x.WallMs));
        double skopeoCpu = Median(samples[SkopeoOci].ConvertAll(x => x.CpuMs));
        double? storage = samples.TryGetValue(SkopeoStorage, out var st) ? Median(st.ConvertAll(x => x.WallMs)) : null;
        text.AppendLine(inv, $"| contender | what it does | median | min | max | MB/s (gzip, median) | CPU (median) | skopeo (OCI layout) ÷ it: wall, CPU |{(storage is null ? "" : " skopeo (containers-storage) ÷ it |")}");
        text.AppendLine(inv, $"| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |{(storage is null ? "" : " ---: |")}");
        foreach (var c in contenders)
        {
            var s = samples[c.Name].ConvertAll(x => x.WallMs);
            double median = Median(s);
            double cpuMedian = Median(samples[c.Name].ConvertAll(x => x.CpuMs));
            string what = c.Name switch
            {
                SkopeoOci => "download, verify, write the blobs (nothing unpacked)",
                SkopeoStorage => "download, verify, unpack every layer (as podman pull)",
                BlobsOnly => "download and verify the blobs only (diagnostic)",
                OnFirstUseThenUnpack => "the OnFirstUse pull, then every layer unpacked and verified from the stored blobs (what the first run pays)",
                OnFirstUse or CliOnFirstUse => "download, verify, write the blobs (unpacked on first run): like-for-like with skopeo → OCI layout",
                _ => "download, verify, decompress, unpack and verify every layer into the store: like-for-like with skopeo → containers-storage",
            };
            text.AppendLine(inv, $"| {c.Name} | {what} | {median:F0} ms | {s.Min():F0} ms | {s.Max():F0} ms | {layout.CompressedBytes / 1e3 / median:F1} | {cpuMedian:F0} ms | {skopeo / median:F2}x, {skopeoCpu / cpuMedian:F2}x |{(storage is { } sv ? $" {sv / median:F2}x |" : "")}");
        }
        text.AppendLine();
        text.AppendLine("CPU = user + system time of this process and the tools it ran and waited for (not the registry), in 10 ms ticks; an in-process pull's includes the runtime's own threads.");
        text.AppendLine("skopeo ÷ it >= 0.8 means Sandbox pulls at least 0.8x as fast as skopeo (the target is against the OCI layout, which unpacks nothing). " +
            "Which is which: the OnFirstUse pull (`--no-unpack`) stores the verified compressed blobs only, as skopeo's OCI layout destination does " +
            "(its layers are unpacked, and their diff ids verified, by the first run); the Eager pull (the default) also decompresses, unpacks and " +
            "verifies every layer into the store, as the containers-storage destination does.");
        return text.ToString();
    }

    private static string DockerRegistryVersion()
    {
        try
        {
            return ToolProcess.Run("/usr/bin/docker-registry", "--version").Trim();
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return "?";
        }
    }

    private static double Median(List<double> samples) => LatencySummary.Of(samples).Median;
}
