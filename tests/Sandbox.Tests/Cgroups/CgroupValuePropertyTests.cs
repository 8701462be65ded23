using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sandbox.Cgroups;
using Sandbox.Cgroups.V1;
using Sandbox.Cgroups.V2;

namespace Sandbox.Tests.Cgroups;

/// <summary>What we format, we (and the kernel's grammar) read back unchanged: "max", sizes, quotas, lists, names.</summary>
public class CgroupValuePropertyTests
{
    /// <summary>A limit: null for "max".</summary>
    public sealed record LimitSample(long? Value);

    /// <summary>A cpu.max value the kernel accepts.</summary>
    public sealed record QuotaSample(long? Quota, long Period);

    /// <summary>An io.max line.</summary>
    public sealed record IoSample(uint Major, uint Minor, long? Rbps, long? Wbps, long? Riops, long? Wiops);

    /// <summary>A set of CPU indexes.</summary>
    public sealed record CpuSetSample(int[] Cpus);

    /// <summary>A host stamp and a sandbox id.</summary>
    public sealed record NameSample(ulong PidNamespace, int Pid, ulong StartTime, string Id);

    /// <summary>A precise total and two tick samples.</summary>
    public sealed record SplitSample(long Total, long User, long System);

    internal static class Arbitraries
    {
        /// <summary>Non-negative longs, biased to the edges (0, 1, 2^31, 2^32, page multiples, long.MaxValue).</summary>
        public static Gen<long> NonNegativeLong() =>
            Gen.Frequency(
                (3, Gen.Choose(0, int.MaxValue).SelectMany(hi => Gen.Choose(0, int.MaxValue).Select(lo => ((long)hi << 32) | (uint)lo))),
                (2, Gen.Choose(0, int.MaxValue).Select(i => (long)i)),
                (1, Gen.Elements(0L, 1L, int.MaxValue, 1L << 32, 4096L * 16384, long.MaxValue - 1, long.MaxValue)));

        private static Gen<long?> OrMax(Gen<long> values) =>
            Gen.Frequency((1, Gen.Constant<long?>(null)), (3, values.Select(v => (long?)v)));

        public static Arbitrary<LimitSample> Limit() => OrMax(NonNegativeLong()).Select(v => new LimitSample(v)).ToArbitrary();

        public static Arbitrary<QuotaSample> Quota() =>
            (from quota in OrMax(NonNegativeLong().Select(v => CpuQuota.MinMicroseconds + (v % (CpuQuota.MaxQuotaMicroseconds - CpuQuota.MinMicroseconds + 1))))
             from period in Gen.Choose((int)CpuQuota.MinMicroseconds, (int)CpuQuota.MaxPeriodMicroseconds)
             select new QuotaSample(quota, period)).ToArbitrary();

        public static Arbitrary<IoSample> Io() =>
            (from major in Gen.Choose(0, 4095)
             from minor in Gen.Choose(0, 1 << 20)
             from rbps in OrMax(NonNegativeLong())
             from wbps in OrMax(NonNegativeLong())
             from riops in OrMax(NonNegativeLong())
             from wiops in OrMax(NonNegativeLong())
             select new IoSample((uint)major, (uint)minor, rbps, wbps, riops, wiops)).ToArbitrary();

        public static Arbitrary<CpuSetSample> CpuSet() =>
            Gen.ListOf(Gen.Frequency((4, Gen.Choose(0, 63)), (1, Gen.Choose(0, CpuList.MaxIndex))))
                .Select(list => new CpuSetSample([.. list])).ToArbitrary();

        public static Arbitrary<NameSample> Name() =>
            (from ns in NonNegativeLong()
             from pid in Gen.Choose(1, int.MaxValue)
             from start in NonNegativeLong()
             from length in Gen.Choose(1, SandboxCgroupName.MaxIdLength)
             from chars in Gen.ArrayOf(Gen.Elements("abcXYZ019_.-".ToCharArray()), length)
             select new NameSample((ulong)ns, pid, (ulong)start, new string(chars))).ToArbitrary();

        public static Arbitrary<SplitSample> Split() =>
            (from total in NonNegativeLong().Select(v => v % (1L << 53))
             from user in NonNegativeLong().Select(v => v % (1L << 40))
             from system in NonNegativeLong().Select(v => v % (1L << 40))
             select new SplitSample(total, user, system)).ToArbitrary();
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public bool A_limit_reads_back_as_written(LimitSample sample)
    {
        var value = new CgroupLimitValue(sample.Value);
        return CgroupLimitValue.Parse(value.Format() + "\n") == value
            && (value.Format() == "max") == (sample.Value is null);
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public bool Cpu_max_reads_back_as_written_with_exactly_two_fields(QuotaSample sample)
    {
        var value = new CpuQuota(sample.Quota, sample.Period);
        string text = value.FormatCpuMax();
        return value.Validate() is null
            && CpuQuota.ParseCpuMax(text + "\n") == value
            && text.Split(' ').Length == 2;
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public bool A_v1_cfs_quota_reads_back_as_written(QuotaSample sample)
    {
        var value = new CpuQuota(sample.Quota, sample.Period);
        return CfsQuota.Parse(CfsQuota.FormatQuota(value) + "\n", CfsQuota.FormatPeriod(value) + "\n") == value;
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public bool An_io_max_line_reads_back_as_written(IoSample sample)
    {
        var limit = new IoDeviceLimit(new DeviceNumber(sample.Major, sample.Minor), sample.Rbps, sample.Wbps, sample.Riops, sample.Wiops);
        return IoMaxFormat.TryParseLine(IoMaxFormat.FormatLine(limit), out IoDeviceLimit? back) && back == limit;
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public bool A_v1_memory_limit_reads_back_as_written_below_the_unlimited_threshold(LimitSample sample)
    {
        long? limit = sample.Value is { } v ? v % V1MemoryLimit.UnlimitedThreshold : null;
        return V1MemoryLimit.Parse(V1MemoryLimit.Format(limit) + "\n") == limit;
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public bool Any_v1_memory_value_at_or_above_the_threshold_is_no_limit(LimitSample sample)
    {
        long value = V1MemoryLimit.UnlimitedThreshold + ((sample.Value ?? 0) % (long.MaxValue - V1MemoryLimit.UnlimitedThreshold + 1));
        return V1MemoryLimit.Parse(value.ToString(System.Globalization.CultureInfo.InvariantCulture)) is null;
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public bool A_cpu_list_reads_back_as_the_same_set_and_formats_canonically(CpuSetSample sample)
    {
        string text = CpuList.Format(sample.Cpus);
        SortedSet<int> back = CpuList.Parse(text);
        return back.SequenceEqual(sample.Cpus.Distinct().Order()) && CpuList.Format(back) == text;
    }

    [Property]
    public bool Every_cpu_weight_survives_the_round_trip_through_v1_shares(PositiveInt weight)
    {
        int w = 1 + ((weight.Get - 1) % CpuShares.MaxWeight);
        long shares = CpuShares.FromWeight(w);
        return CpuShares.ToWeight(shares) == w && shares is >= 2 and <= 262_144;
    }

    [Property]
    public bool A_device_number_reads_back_as_written(uint major, uint minor) =>
        DeviceNumber.Parse(new DeviceNumber(major, minor).ToString()) == new DeviceNumber(major, minor);

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public bool A_sandbox_cgroup_name_reads_back_as_written(NameSample sample)
    {
        var host = new HostProcessStamp(sample.PidNamespace, sample.Pid, sample.StartTime);
        string name = SandboxCgroupName.Format(host, sample.Id);
        return SandboxCgroupName.TryParse(name, out HostProcessStamp backHost, out string backId)
            && backHost == host && backId == sample.Id && name.Length <= 255;
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public bool Apportioned_cpu_time_adds_up_and_is_never_negative(SplitSample sample)
    {
        (long user, long system) = V1CpuacctController.Apportion(sample.Total, sample.User, sample.System);
        return user + system == sample.Total && user >= 0 && system >= 0;
    }

    [Property]
    public bool Mountinfo_unescaping_undoes_the_kernels_octal_escapes(NonNull<string> path)
    {
        string escaped = string.Concat(path.Get.Select(c => c switch
        {
            ' ' => "\\040",
            '\t' => "\\011",
            '\n' => "\\012",
            '\\' => "\\134",
            _ => c.ToString(),
        }));
        return MountInfoParser.Unescape(escaped) == path.Get;
    }
}
