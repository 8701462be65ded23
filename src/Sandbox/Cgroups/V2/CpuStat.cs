namespace Sandbox.Cgroups.V2;

/// <summary>
/// v2 cpu.stat. usage_usec, user_usec and system_usec exist in every cgroup; the throttling counters only while the
/// cpu controller is enabled for it.
/// </summary>
/// <param name="UsageMicroseconds">usage_usec: total CPU time of every task that ran in the cgroup.</param>
/// <param name="UserMicroseconds">user_usec.</param>
/// <param name="SystemMicroseconds">system_usec.</param>
/// <param name="Periods">nr_periods: CFS periods that elapsed with runnable tasks.</param>
/// <param name="ThrottledPeriods">nr_throttled: periods in which the quota ran out.</param>
/// <param name="ThrottledMicroseconds">throttled_usec.</param>
internal sealed record CpuStat(
    long UsageMicroseconds,
    long UserMicroseconds,
    long SystemMicroseconds,
    long? Periods,
    long? ThrottledPeriods,
    long? ThrottledMicroseconds)
{
    /// <summary>Parses the file; <see cref="FormatException"/> if usage_usec, user_usec or system_usec is missing.</summary>
    public static CpuStat Parse(string text)
    {
        IReadOnlyDictionary<string, long> values = FlatKeyedValues.Parse(text);
        return new CpuStat(
            FlatKeyedValues.Required(values, "usage_usec", "cpu.stat"),
            FlatKeyedValues.Required(values, "user_usec", "cpu.stat"),
            FlatKeyedValues.Required(values, "system_usec", "cpu.stat"),
            FlatKeyedValues.Optional(values, "nr_periods"),
            FlatKeyedValues.Optional(values, "nr_throttled"),
            FlatKeyedValues.Optional(values, "throttled_usec"));
    }
}
