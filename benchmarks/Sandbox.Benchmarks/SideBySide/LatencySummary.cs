namespace Sandbox.Benchmarks.SideBySide;

/// <summary>Order statistics of one contender's samples, in microseconds.</summary>
internal sealed record LatencySummary(int Count, double Min, double Median, double Mean, double P90, double P99, double Max)
{
    public static LatencySummary Of(IReadOnlyList<double> samples)
    {
        if (samples.Count == 0)
            throw new ArgumentException("No samples.", nameof(samples));
        double[] sorted = [.. samples.Order()];
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return new LatencySummary(n, sorted[0], median, sorted.Average(), NearestRank(sorted, 0.90), NearestRank(sorted, 0.99), sorted[^1]);
    }

    /// <summary>The nearest-rank percentile: the smallest sample with at least <paramref name="p"/> of the samples at or below it.</summary>
    private static double NearestRank(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
