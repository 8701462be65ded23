namespace Sandbox.Cgroups.V1;

/// <summary>
/// Converts v2 cpu.weight (1..10000, default 100) to v1 cpu.shares (2..262144, default 1024) and back, proportionally,
/// so the defaults meet and every weight survives the round trip.
/// </summary>
internal static class CpuShares
{
    /// <summary>The smallest v2 weight.</summary>
    public const int MinWeight = 1;

    /// <summary>The largest v2 weight.</summary>
    public const int MaxWeight = 10_000;

    /// <summary>The v1 default.</summary>
    public const long DefaultShares = 1024;

    /// <summary>cpu.shares for a cpu.weight.</summary>
    public static long FromWeight(int weight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(weight, MinWeight);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(weight, MaxWeight);
        return Math.Clamp(weight * DefaultShares / 100, 2, 262_144);
    }

    /// <summary>The cpu.weight closest to a cpu.shares value.</summary>
    public static int ToWeight(long shares) =>
        (int)Math.Clamp((long)Math.Round(shares * 100.0 / DefaultShares, MidpointRounding.AwayFromZero), MinWeight, MaxWeight);
}
