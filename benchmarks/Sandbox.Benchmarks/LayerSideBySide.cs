using System.Diagnostics;
using System.Globalization;

namespace Sandbox.Benchmarks;

/// <summary>
/// <c>layers [--runs N]</c>: <c>tar -xzf</c> and <see cref="Sandbox.Images.Layers.LayerApplier"/> on the same
/// gzip layer (<see cref="LayerFixture"/>), interleaved round by round in a shuffled order into fresh tmpfs
/// directories; prints medians, the ratio and the CPU other processes took.
/// </summary>
internal static class LayerSideBySide
{
    public static int Run(ReadOnlySpan<string> args)
    {
        int runs = 15;
        if (args.Length == 2 && args[0] == "--runs" && int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0) runs = n;
        else if (args.Length != 0)
        {
            Console.Error.WriteLine("usage: layers [--runs N]");
            return 2;
        }
        using var fixture = LayerFixture.Create();
        Console.WriteLine($"layer: {fixture.Entries} entries, {fixture.TarBytes / 1e6:F0} MB tar, {new FileInfo(fixture.Blob).Length / 1e6:F0} MB gzip; {runs} rounds into /dev/shm");
        var contenders = new (string Name, Action<string> Run)[]
        {
            ("tar -xzf", target => LayerFixture.TarExtract(fixture.Blob, target)),
            ("LayerApplier.Apply", target => fixture.Apply(target)),
        };
        var times = contenders.ToDictionary(c => c.Name, _ => new List<double>());
        var random = new Random(1);
        foreach (var c in contenders) Measure(c.Run); // warm-up (JIT, page cache)
        var before = SideBySide.CpuUsage.Now();
        for (int round = 0; round < runs; round++)
            foreach (var c in contenders.OrderBy(_ => random.Next()))
                times[c.Name].Add(Measure(c.Run));
        var cpu = SideBySide.CpuShare.Between(before, SideBySide.CpuUsage.Now());
        foreach (var (name, samples) in times)
            Console.WriteLine($"{name,-20} median {Median(samples),8:F0} ms   min {samples.Min(),8:F0} ms");
        double ratio = Median(times["tar -xzf"]) / Median(times["LayerApplier.Apply"]);
        Console.WriteLine($"LayerApplier speed relative to tar: {ratio:F2}x (target >= 0.80x); other processes took {cpu.OtherPercent:F0}% of the CPU");
        return 0;

        double Measure(Action<string> run)
        {
            string target = fixture.NewTarget();
            try
            {
                var watch = Stopwatch.StartNew();
                run(target);
                return watch.Elapsed.TotalMilliseconds;
            }
            finally
            {
                LayerFixture.Remove(target);
            }
        }
    }

    private static double Median(List<double> samples)
    {
        var sorted = samples.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
