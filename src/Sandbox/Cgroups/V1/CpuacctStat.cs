namespace Sandbox.Cgroups.V1;

/// <summary>v1 cpuacct.stat: "user N" and "system N" in USER_HZ ticks.</summary>
/// <param name="UserTicks">user.</param>
/// <param name="SystemTicks">system.</param>
internal sealed record CpuacctStat(long UserTicks, long SystemTicks)
{
    /// <summary>USER_HZ, the tick rate of times reported to user space: 100 on every Linux architecture .NET runs on.</summary>
    public const int UserHz = 100;

    /// <summary>User time.</summary>
    public TimeSpan UserTime => TicksToTime(UserTicks);

    /// <summary>System time.</summary>
    public TimeSpan SystemTime => TicksToTime(SystemTicks);

    /// <summary>Parses the file; <see cref="FormatException"/> if a line is missing.</summary>
    public static CpuacctStat Parse(string text)
    {
        IReadOnlyDictionary<string, long> values = FlatKeyedValues.Parse(text);
        return new CpuacctStat(
            FlatKeyedValues.Required(values, "user", "cpuacct.stat"),
            FlatKeyedValues.Required(values, "system", "cpuacct.stat"));
    }

    /// <summary>USER_HZ ticks as time.</summary>
    public static TimeSpan TicksToTime(long ticks) => TimeSpan.FromTicks(ticks * (TimeSpan.TicksPerSecond / UserHz));
}
