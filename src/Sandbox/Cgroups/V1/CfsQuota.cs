using System.Globalization;

namespace Sandbox.Cgroups.V1;

/// <summary>v1 cpu.cfs_quota_us (microseconds, <c>-1</c> for no limit) and cpu.cfs_period_us.</summary>
internal static class CfsQuota
{
    /// <summary>What cpu.cfs_quota_us holds for "no limit".</summary>
    public const string UnlimitedText = "-1";

    /// <summary>Parses cpu.cfs_quota_us: microseconds, or null for -1 (any negative value means no limit).</summary>
    public static bool TryParseQuota(string? text, out long? quota)
    {
        quota = null;
        if (!long.TryParse((text ?? "").Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            return false;
        }
        quota = value < 0 ? null : value;
        return true;
    }

    /// <summary>The quota and period of a cgroup, from the two files' text.</summary>
    public static CpuQuota Parse(string quotaText, string periodText)
    {
        if (!TryParseQuota(quotaText, out long? quota)
            || !long.TryParse(periodText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long period))
        {
            throw new FormatException($"Not a CFS quota and period: '{quotaText.Trim()}', '{periodText.Trim()}'.");
        }
        return new CpuQuota(quota, period);
    }

    /// <summary>The cpu.cfs_quota_us text: microseconds or -1.</summary>
    public static string FormatQuota(CpuQuota value) =>
        value.QuotaMicroseconds is { } quota ? quota.ToString(CultureInfo.InvariantCulture) : UnlimitedText;

    /// <summary>The cpu.cfs_period_us text.</summary>
    public static string FormatPeriod(CpuQuota value) => value.PeriodMicroseconds.ToString(CultureInfo.InvariantCulture);
}
