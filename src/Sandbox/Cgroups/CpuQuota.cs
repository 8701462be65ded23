using System.Globalization;

namespace Sandbox.Cgroups;

/// <summary>
/// A CFS bandwidth limit: at most <paramref name="QuotaMicroseconds"/> of CPU time per
/// <paramref name="PeriodMicroseconds"/> (v2 cpu.max "QUOTA PERIOD"; v1 cpu.cfs_quota_us and cpu.cfs_period_us).
/// </summary>
/// <param name="QuotaMicroseconds">The run time per period, or null for no limit (<c>max</c>; v1 <c>-1</c>).</param>
/// <param name="PeriodMicroseconds">The period, 1 ms to 1 s.</param>
internal readonly record struct CpuQuota(long? QuotaMicroseconds, long PeriodMicroseconds)
{
    /// <summary>The kernel's default period: 100 ms.</summary>
    public const long DefaultPeriodMicroseconds = 100_000;

    /// <summary>The shortest period and quota the kernel accepts: 1 ms.</summary>
    public const long MinMicroseconds = 1_000;

    /// <summary>The longest period the kernel accepts: 1 s.</summary>
    public const long MaxPeriodMicroseconds = 1_000_000;

    /// <summary>The largest quota the kernel accepts (it refuses more than about 2^44 µs per period).</summary>
    public const long MaxQuotaMicroseconds = 1L << 44;

    /// <summary>No limit, with the default period (v2's initial cpu.max: "max 100000").</summary>
    public static CpuQuota Unlimited => new(null, DefaultPeriodMicroseconds);

    /// <summary>The quota that lets the sandbox use <paramref name="cpus"/> CPUs' worth of time (e.g. 0.5 → "50000 100000").</summary>
    public static CpuQuota FromCpus(double cpus, long periodMicroseconds = DefaultPeriodMicroseconds)
    {
        if (!double.IsFinite(cpus) || cpus <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(cpus), cpus, "The number of CPUs must be positive.");
        }
        long quota = (long)Math.Round(cpus * periodMicroseconds, MidpointRounding.AwayFromZero);
        return new(Math.Max(quota, MinMicroseconds), periodMicroseconds);
    }

    /// <summary>Why the kernel would refuse this quota, or null if it is valid.</summary>
    public string? Validate() =>
        PeriodMicroseconds is < MinMicroseconds or > MaxPeriodMicroseconds
            ? $"The CPU period must be 1000..1000000 µs, not {PeriodMicroseconds}."
            : QuotaMicroseconds is < MinMicroseconds or > MaxQuotaMicroseconds
                ? $"The CPU quota must be at least 1000 µs (and at most 2^44), not {QuotaMicroseconds}."
                : null;

    /// <summary>Parses v2 cpu.max: "QUOTA PERIOD" or "max PERIOD" (a lone quota keeps the default period).</summary>
    public static bool TryParseCpuMax(string? text, out CpuQuota value)
    {
        value = default;
        string[] parts = (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is < 1 or > 2)
        {
            return false;
        }
        long period = DefaultPeriodMicroseconds;
        if (parts.Length == 2 && !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out period))
        {
            return false;
        }
        if (parts[0] == CgroupLimitValue.MaxWord)
        {
            value = new(null, period);
            return true;
        }
        if (!long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long quota))
        {
            return false;
        }
        value = new(quota, period);
        return true;
    }

    /// <summary>Parses v2 cpu.max; <see cref="FormatException"/> otherwise.</summary>
    public static CpuQuota ParseCpuMax(string text) =>
        TryParseCpuMax(text, out CpuQuota value) ? value : throw new FormatException($"Not a cpu.max value ('QUOTA PERIOD' or 'max PERIOD'): '{text.Trim()}'.");

    /// <summary>The v2 cpu.max text: "QUOTA PERIOD" or "max PERIOD".</summary>
    public string FormatCpuMax() => string.Create(
        CultureInfo.InvariantCulture,
        $"{(QuotaMicroseconds is { } quota ? quota.ToString(CultureInfo.InvariantCulture) : CgroupLimitValue.MaxWord)} {PeriodMicroseconds}");

    /// <inheritdoc />
    public override string ToString() => FormatCpuMax();
}
