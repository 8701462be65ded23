namespace Sandbox.Benchmarks.SideBySide;

/// <summary>One pass of the side-by-side measurement: every contender, at one host heap size.</summary>
/// <param name="Label">E.g. "minimal heap" or "4 GiB live heap".</param>
/// <param name="BallastBytes">The live ballast held during the pass.</param>
/// <param name="GcHeapBytes">The GC's heap size when the pass started.</param>
/// <param name="RssBytes">The host's resident set when the pass started.</param>
/// <param name="Samples">Per contender name: every measured run, in microseconds, in run order.</param>
/// <param name="Collections">GC collections (gen0, gen1, gen2) during the measured runs.</param>
/// <param name="Elapsed">How long the measured runs took in all.</param>
/// <param name="Cpu">How the machine's CPU time was spent during the measured runs.</param>
/// <param name="LoadBefore">The load average before the measured runs.</param>
/// <param name="LoadAfter">The load average after them.</param>
/// <param name="WarmupRounds">The unmeasured rounds run first (until the JIT had gone quiet).</param>
internal sealed record PassResult(
    string Label,
    long BallastBytes,
    long GcHeapBytes,
    long RssBytes,
    IReadOnlyDictionary<string, List<double>> Samples,
    (int Gen0, int Gen1, int Gen2) Collections,
    TimeSpan Elapsed,
    CpuShare Cpu,
    string LoadBefore,
    string LoadAfter,
    int WarmupRounds)
{
    public LatencySummary Summary(string contender) => LatencySummary.Of(Samples[contender]);
}
