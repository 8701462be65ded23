using System.Diagnostics;
using System.Globalization;
using Sandbox.IntegrationTests.Support;
using Xunit.Abstractions;
using static System.FormattableString;

namespace Sandbox.IntegrationTests.Limits;

/// <summary>
/// The figures a judge decides on: CPU time of a fixed amount of work in a sandbox against the same work run bare
/// (measured by the probe's own getrusage), and peak memory against what a program touched.
/// </summary>
[Collection(LimitsCollection.Name)]
public sealed class AccountingAccuracyTests(ITestOutputHelper output)
{
    private const long MiB = 1 << 20;

    /// <summary>The probe's cpu-burn work: about this many milliseconds of CPU here.</summary>
    private const string BurnMilliseconds = "400";

    private const int Rounds = 3;

    [Fact(Timeout = 60_000)]
    public async Task The_CPU_time_of_a_fixed_busy_loop_is_what_it_costs_bare_within_5_percent()
    {
        var bare = new List<double>();
        var sandboxed = new List<double>();
        var reportedInside = new List<double>();
        for (int round = 0; round < Rounds; round++)
        {
            bare.Add(await RunBareAsync());
            var result = (await Probe.Command("cpu-burn", BurnMilliseconds)
                .WithCpuTimeLimit(TimeSpan.FromSeconds(30)) // a cgroup, so the CPU time is the cgroup's
                .RunAsync()).EnsureSuccess();
            Assert.Equal(CpuTimeSource.Cgroup, result.Usage.CpuSource);
            sandboxed.Add(result.Usage.CpuTime.TotalMilliseconds);
            reportedInside.Add(Microseconds(result.StandardOutput.Values()) / 1000.0);
        }

        double bareMedian = Median(bare), sandboxMedian = Median(sandboxed), insideMedian = Median(reportedInside);
        double error = (sandboxMedian - bareMedian) / bareMedian;
        output.WriteLine(Invariant($"bare getrusage [{string.Join(", ", bare.Select(v => Invariant($"{v:0.0}")))}] ms, median {bareMedian:0.0}"));
        output.WriteLine(Invariant($"sandbox cgroup [{string.Join(", ", sandboxed.Select(v => Invariant($"{v:0.0}")))}] ms, median {sandboxMedian:0.0}"));
        output.WriteLine(Invariant($"getrusage inside the sandbox median {insideMedian:0.0} ms; sandbox vs bare {error:+0.00%;-0.00%}"));
        // 5%, plus a little for what the sandbox adds to the work: sandbox-init and the probe's exec.
        Assert.InRange(sandboxMedian, bareMedian * 0.95 - 10, bareMedian * 1.05 + 15);
        // The cgroup charges at least what the program itself used.
        Assert.InRange(sandboxMedian, insideMedian - 1, insideMedian * 1.05 + 15);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(128)]
    public async Task The_peak_memory_of_a_program_is_what_it_touched_within_10_percent_and_2_MiB(int mebibytes)
    {
        var result = (await Probe.Command("touch", mebibytes.ToString(CultureInfo.InvariantCulture))
            .WithMemoryLimit(512 * MiB)
            .RunAsync()).EnsureSuccess();

        long touched = mebibytes * MiB;
        long peak = result.Usage.PeakMemoryBytes ?? 0;
        output.WriteLine(Invariant($"touched {mebibytes} MiB; peak {peak} bytes ({peak / (double)MiB:0.00} MiB, {result.Usage.MemorySource})"));
        output.WriteLine(Invariant($"error {(peak - touched) / (double)MiB:+0.00;-0.00} MiB ({(peak - touched) / (double)touched:+0.00%;-0.00%})"));
        Assert.Equal(SandboxCgroupDirectories.ExpectedMemorySource, result.Usage.MemorySource);
        Assert.InRange(peak, touched, (long)(touched * 1.1) + 2 * MiB);
    }

    /// <summary>Runs the probe's cpu-burn directly on the host; its own getrusage, in milliseconds.</summary>
    private static async Task<double> RunBareAsync()
    {
        var start = new ProcessStartInfo(TestBinaries.ProbePath, ["cpu-burn", BurnMilliseconds])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        string text = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        return Microseconds(ProbeOutput.Values(text)) / 1000.0;
    }

    private static long Microseconds(Dictionary<string, string> values) => long.Parse(values["cpu_us"], CultureInfo.InvariantCulture);

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
