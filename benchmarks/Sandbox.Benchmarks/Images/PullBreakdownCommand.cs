using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sandbox.Images.Layers;
using Sandbox.Benchmarks.SideBySide;
using Sandbox.Images.Oci;

namespace Sandbox.Benchmarks.Images;

/// <summary>
/// <c>pull-breakdown [--rounds N] [--scratch DIR] [--out FILE]</c>: where an eager pull's CPU goes, on the image
/// pull-vs-skopeo pulls, one thread, no network: for every layer blob (read from a file, as the store reads a stored blob)
/// hashing the compressed bytes; inflating them; inflating and hashing the tar (the diff id); and the whole
/// <see cref="LayerApplier.Apply"/> (both hashes, inflating, parsing and writing every file) into a fresh directory.
/// Apply minus "inflate + hash the tar" minus "hash the blob" is what creating the files costs. Medians of wall and CPU.
/// </summary>
internal static class PullBreakdownCommand
{
    private const string Usage = "usage: pull-breakdown [--rounds N (7, at least 3)] [--scratch DIR (/var/tmp)] [--out FILE]";

    private sealed record Stage(string Name, string What, Action<LayerFacts, string, string> Run);

    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = 7;
        string? output = null, scratchParent = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--rounds" && i + 1 < args.Length && int.TryParse(args[++i], CultureInfo.InvariantCulture, out rounds) && rounds >= 3) continue;
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

        using var scratch = BenchScratch.Create("sandbox-pull-breakdown-", scratchParent);
        var layout = BenchImageLayout.Write(scratch.Combine("layout"), "v1", BenchImages.ApplicationImage(), ["/bin/sh"]);
        string blobs = Path.Combine(layout.Directory, "blobs", "sha256");
        var options = LayerApplyOptions.ForCurrentUser();
        var stages = new List<Stage>
        {
            new("hash blob", "SHA-256 of the compressed bytes (the digest check)", (layer, blob, _) =>
            {
                using var file = Open(blob);
                Hash(file);
            }),
            new("inflate", "gzip to nothing", (layer, blob, _) =>
            {
                using var file = Open(blob);
                using var gzip = LayerApplier.Decompress(file, LayerCompression.Gzip);
                gzip.CopyTo(Stream.Null, ReadBytes);
            }),
            new("inflate + hash tar", "gzip, SHA-256 of the tar (the diff id check)", (layer, blob, _) =>
            {
                using var file = Open(blob);
                using var gzip = LayerApplier.Decompress(file, LayerCompression.Gzip);
                Hash(gzip);
            }),
            new("apply", "LayerApplier.Apply: both checks, inflate, parse, create every file", (layer, blob, target) =>
            {
                Directory.CreateDirectory(target);
                using var file = Open(blob);
                LayerApplier.Apply(file, new LayerBlob(layer.Digest, layer.CompressedBytes, LayerCompression.Gzip, layer.DiffId), target, options);
            }),
        };

        Console.WriteLine($"image: {layout.Describe()}; {rounds} rounds after one warm-up, each stage over every layer, one thread; targets in {scratch.Path} ({scratch.FileSystem()})");
        var samples = stages.ToDictionary(s => s.Name, _ => (Wall: new List<double>(), Cpu: new List<double>()));
        var cpuBefore = CpuUsage.Now();
        string loadBefore = CpuUsage.LoadAverage();
        for (int round = -1; round < rounds; round++)
            foreach (var stage in stages)
            {
                string target = scratch.Combine("apply-" + Guid.NewGuid().ToString("N")[..8]);
                double cpu0 = ProcessCpuTime.NowMicroseconds();
                long t0 = Stopwatch.GetTimestamp();
                foreach (var layer in layout.Layers)
                    stage.Run(layer, Path.Combine(blobs, layer.Digest.Encoded), Path.Combine(target, layer.Digest.Encoded));
                double wall = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                double cpu = (ProcessCpuTime.NowMicroseconds() - cpu0) / 1000;
                if (Directory.Exists(target)) LayerFixture.Remove(target);
                if (round < 0) continue;
                samples[stage.Name].Wall.Add(wall);
                samples[stage.Name].Cpu.Add(cpu);
            }
        var share = CpuShare.Between(cpuBefore, CpuUsage.Now());

        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("# Where an eager pull's CPU goes (one thread, no network)");
        text.AppendLine();
        text.AppendLine(inv, $"{BenchMachine.Describe()}.");
        text.AppendLine(inv, $"Image: {layout.Describe()}. Blobs read from {scratch.FileSystem()}; files written to fresh directories there (removed, not timed).");
        text.AppendLine(inv, $"{rounds} rounds after one warm-up; CPU meanwhile: {share.OwnPercent:F0}% this process, {share.OtherPercent:F0}% other processes (load average {loadBefore} -> {CpuUsage.LoadAverage()}).");
        text.AppendLine();
        text.AppendLine("| stage | what it does | wall (median) | CPU (median) | MB/s of tar (CPU) |");
        text.AppendLine("| --- | --- | ---: | ---: | ---: |");
        foreach (var stage in stages)
        {
            double wall = LatencySummary.Of(samples[stage.Name].Wall).Median, cpu = LatencySummary.Of(samples[stage.Name].Cpu).Median;
            text.AppendLine(inv, $"| {stage.Name} | {stage.What} | {wall:F0} ms | {cpu:F0} ms | {layout.TarBytes / 1e3 / cpu:F0} |");
        }
        double applyCpu = LatencySummary.Of(samples["apply"].Cpu).Median;
        double filesCpu = applyCpu - LatencySummary.Of(samples["inflate + hash tar"].Cpu).Median - LatencySummary.Of(samples["hash blob"].Cpu).Median;
        text.AppendLine();
        text.AppendLine(inv, $"Creating the {layout.Entries} entries (parsing the tar, writing the files, their owners, modes, times and xattrs): about {filesCpu:F0} ms of the {applyCpu:F0} ms apply.");
        Console.Write(text.ToString());
        if (output is not null) await File.WriteAllTextAsync(output, text.ToString()).ConfigureAwait(false);
        return 0;
    }

    /// <summary>The applier's read size (its read-ahead chunk).</summary>
    private const int ReadBytes = 256 * 1024;

    private static void Hash(Stream stream)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[ReadBytes];
        int n;
        while ((n = stream.Read(buffer)) > 0) hash.AppendData(buffer, 0, n);
        hash.GetHashAndReset();
    }

    private static FileStream Open(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
}
