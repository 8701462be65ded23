namespace Sandbox.Cgroups.V1;

/// <summary>
/// The v1 cpuacct controller: CPU time. cpuacct.usage is the precise total (ns, from the scheduler's runtime). The
/// kernel splits CPU time into user and system only by sampling at ticks (cpuacct.usage_user and cpuacct.usage_sys
/// are those samples in ns; cpuacct.stat the same in USER_HZ ticks), so the two can disagree with the total by a tick
/// per CPU or more. The precise total is therefore apportioned by the sampled ratio: user + system = total. With no
/// sample yet (a run shorter than a tick), it is all counted as user time.
/// </summary>
internal static class V1CpuacctController
{
    /// <summary>The controller's name.</summary>
    public const string Name = "cpuacct";

    /// <summary>The files <see cref="ReadUsage"/> reads.</summary>
    public static readonly IReadOnlyList<string> UsageFiles = ["cpuacct.usage", "cpuacct.usage_user", "cpuacct.usage_sys"];

    /// <summary>Adds total, user and system CPU time.</summary>
    public static CgroupUsage ReadUsage(ICgroupFileSystem fileSystem, string directory, CgroupUsage usage)
    {
        long? total = CgroupFiles.TryReadNumber(fileSystem, directory + "/cpuacct.usage");
        long? user = CgroupFiles.TryReadNumber(fileSystem, directory + "/cpuacct.usage_user");
        long? system = CgroupFiles.TryReadNumber(fileSystem, directory + "/cpuacct.usage_sys");
        if ((user is null || system is null) && CgroupFiles.TryRead(fileSystem, directory + "/cpuacct.stat") is { } text)
        {
            CpuacctStat stat = CpuacctStat.Parse(text);
            user = stat.UserTime.Ticks * 100;
            system = stat.SystemTime.Ticks * 100;
        }
        if (total is null)
        {
            return user is null || system is null
                ? usage
                : usage with
                {
                    CpuTime = NanosecondsToTime(user.Value + system.Value),
                    UserCpuTime = NanosecondsToTime(user.Value),
                    SystemCpuTime = NanosecondsToTime(system.Value),
                };
        }
        (long userNs, long systemNs) = Apportion(total.Value, user ?? 0, system ?? 0);
        return usage with
        {
            CpuTime = NanosecondsToTime(total.Value),
            UserCpuTime = NanosecondsToTime(userNs),
            SystemCpuTime = NanosecondsToTime(systemNs),
        };
    }

    /// <summary>Splits the precise <paramref name="total"/> in the ratio of the sampled user and system times.</summary>
    public static (long User, long System) Apportion(long total, long sampledUser, long sampledSystem)
    {
        if (sampledUser + sampledSystem <= 0)
        {
            return (total, 0);
        }
        // Exact integer arithmetic: a double loses precision near 2^53 and could round system above total.
        long system = (long)((Int128)total * sampledSystem / ((Int128)sampledUser + sampledSystem));
        return (total - system, system);
    }

    /// <summary>Nanoseconds as time (rounded down to the 100 ns tick).</summary>
    public static TimeSpan NanosecondsToTime(long nanoseconds) => TimeSpan.FromTicks(nanoseconds / 100);
}
