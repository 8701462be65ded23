using Sandbox.Cgroups;
using Sandbox.Cgroups.V1;
using Sandbox.Cgroups.V2;

namespace Sandbox.Tests.Cgroups;

/// <summary>The kernel's own file texts parse to the right values; what we write is what the kernel expects.</summary>
public class CgroupValueParsingTests
{
    [Theory]
    [InlineData("max\n", null)]
    [InlineData("67108864\n", 67108864L)]
    [InlineData("0", 0L)]
    [InlineData(" 16 \n", 16L)]
    public void A_limit_file_reads_as_max_or_a_number(string text, long? expected) =>
        Assert.Equal(expected, CgroupLimitValue.Parse(text).Limit);

    [Theory]
    [InlineData("-1")]
    [InlineData("Max")]
    [InlineData("64M")]
    [InlineData("")]
    [InlineData("9223372036854775808")]
    public void A_limit_file_rejects_what_the_kernel_never_writes(string text) =>
        Assert.False(CgroupLimitValue.TryParse(text, out _));

    [Fact]
    public void A_limit_formats_max_and_numbers_as_the_kernel_reads_them()
    {
        Assert.Equal("max", CgroupLimitValue.Max.Format());
        Assert.Equal("16", CgroupLimitValue.Of(16).Format());
        Assert.Throws<ArgumentOutOfRangeException>(() => CgroupLimitValue.Of(-1));
    }

    [Theory]
    [InlineData("max 100000\n", null, 100000L)]
    [InlineData("50000 100000\n", 50000L, 100000L)]
    [InlineData("200000 1000000", 200000L, 1000000L)]
    [InlineData("max", null, 100000L)]
    public void Cpu_max_reads_as_quota_and_period(string text, long? quota, long period) =>
        Assert.Equal(new CpuQuota(quota, period), CpuQuota.ParseCpuMax(text));

    [Theory]
    [InlineData("")]
    [InlineData("50000 100000 7")]
    [InlineData("-1 100000")]
    [InlineData("max max")]
    public void Cpu_max_rejects_malformed_text(string text) => Assert.False(CpuQuota.TryParseCpuMax(text, out _));

    [Fact]
    public void Half_a_cpu_is_fifty_ms_per_hundred_ms()
    {
        Assert.Equal("50000 100000", CpuQuota.FromCpus(0.5).FormatCpuMax());
        Assert.Equal("200000 100000", CpuQuota.FromCpus(2).FormatCpuMax());
        Assert.Equal("1000 100000", CpuQuota.FromCpus(0.0001).FormatCpuMax());
        Assert.Equal("max 100000", CpuQuota.Unlimited.FormatCpuMax());
    }

    [Theory]
    [InlineData(999L, 100000L)]
    [InlineData(1000L, 999L)]
    [InlineData(1000L, 1000001L)]
    public void A_quota_the_kernel_would_refuse_is_reported(long quota, long period) =>
        Assert.NotNull(new CpuQuota(quota, period).Validate());

    [Fact]
    public void Io_max_reads_the_kernel_documentation_example()
    {
        // Documentation/admin-guide/cgroup-v2.rst, io.max.
        IReadOnlyList<IoDeviceLimit> limits = IoMaxFormat.Parse("8:16 rbps=2097152 wbps=max riops=max wiops=120\n");
        IoDeviceLimit limit = Assert.Single(limits);
        Assert.Equal(new IoDeviceLimit(new DeviceNumber(8, 16), 2097152, null, null, 120), limit);
        Assert.Equal("8:16 rbps=2097152 wbps=max riops=max wiops=120", IoMaxFormat.FormatLine(limit));
    }

    [Theory]
    [InlineData("8:16 rbps=1")]
    [InlineData("8:16")]
    [InlineData("254:0 wiops=7 rbps=max")]
    public void Io_max_accepts_any_subset_of_keys(string line) => Assert.True(IoMaxFormat.TryParseLine(line, out _));

    [Theory]
    [InlineData("8 rbps=1")]
    [InlineData("8:16 rbps=")]
    [InlineData("8:16 xbps=1")]
    [InlineData("8:16 rbps=-1")]
    public void Io_max_rejects_malformed_lines(string line) => Assert.False(IoMaxFormat.TryParseLine(line, out _));

    [Fact]
    public void Cpu_stat_reads_usage_user_system_and_throttling()
    {
        CpuStat stat = CpuStat.Parse(CgroupSamples.V2CpuStat);
        Assert.Equal(new CpuStat(1532417, 1401007, 131410, 31, 12, 702114), stat);
    }

    [Fact]
    public void Cpu_stat_without_the_cpu_controller_has_no_throttling_counters()
    {
        // This machine's /sys/fs/cgroup/unified/cpu.stat.
        CpuStat stat = CpuStat.Parse("usage_usec 176603701\nuser_usec 136457969\nsystem_usec 40145732\nnice_usec 0\n");
        Assert.Equal(176603701, stat.UsageMicroseconds);
        Assert.Null(stat.ThrottledPeriods);
    }

    [Fact]
    public void Cpu_stat_without_usage_is_an_error() =>
        Assert.Throws<FormatException>(() => CpuStat.Parse("user_usec 1\nsystem_usec 2\n"));

    [Fact]
    public void Memory_events_read_oom_kills()
    {
        MemoryEvents events = MemoryEvents.Parse(CgroupSamples.V2MemoryEventsAfterOom);
        Assert.Equal(new MemoryEvents(0, 0, 1021, 1, 1, 0), events);
        Assert.Null(MemoryEvents.Parse("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n").OomGroupKill);
    }

    [Theory]
    [InlineData("populated 1\nfrozen 0\n", true, false)]
    [InlineData("populated 0\nfrozen 1\n", false, true)]
    [InlineData("populated 0\n", false, false)]
    public void Cgroup_events_read_populated_and_frozen(string text, bool populated, bool frozen) =>
        Assert.Equal(new CgroupEvents(populated, frozen), CgroupEvents.Parse(text));

    [Theory]
    [InlineData("9223372036854771712\n", null)] // "no limit" with 4 KiB pages, as this machine shows it
    [InlineData("9223372036854710272\n", null)] // "no limit" with 64 KiB pages
    [InlineData("-1", null)]
    [InlineData("67108864\n", 67108864L)]
    [InlineData("0\n", 0L)]
    public void A_v1_memory_limit_reads_the_page_rounded_maximum_as_no_limit(string text, long? expected) =>
        Assert.Equal(expected, V1MemoryLimit.Parse(text));

    [Fact]
    public void A_v1_memory_limit_writes_minus_one_for_no_limit()
    {
        Assert.Equal("-1", V1MemoryLimit.Format(null));
        Assert.Equal("67108864", V1MemoryLimit.Format(67108864));
    }

    [Fact]
    public void Oom_control_reads_this_machines_format()
    {
        Assert.Equal(new OomControl(false, false, 0), OomControl.Parse("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"));
        Assert.Equal(new OomControl(false, true, 3), OomControl.Parse("oom_kill_disable 0\nunder_oom 1\noom_kill 3\n"));
        Assert.Null(OomControl.Parse("oom_kill_disable 0\nunder_oom 0\n").OomKills); // before Linux 4.13
    }

    [Fact]
    public void Cpuacct_stat_counts_user_hz_ticks()
    {
        CpuacctStat stat = CpuacctStat.Parse("user 152\nsystem 7\n");
        Assert.Equal(TimeSpan.FromMilliseconds(1520), stat.UserTime);
        Assert.Equal(TimeSpan.FromMilliseconds(70), stat.SystemTime);
    }

    [Theory]
    [InlineData("-1\n", "100000\n", null, 100000L)]
    [InlineData("50000\n", "100000\n", 50000L, 100000L)]
    public void Cfs_quota_reads_minus_one_as_no_limit(string quota, string period, long? expectedQuota, long expectedPeriod)
    {
        CpuQuota value = CfsQuota.Parse(quota, period);
        Assert.Equal(new CpuQuota(expectedQuota, expectedPeriod), value);
        Assert.Equal(quota.Trim(), CfsQuota.FormatQuota(value));
    }

    [Fact]
    public void Blkio_throttle_reads_device_lines()
    {
        IReadOnlyList<BlkioThrottleEntry> entries = BlkioThrottleEntry.Parse("254:0 1048576\n8:0 10\n");
        Assert.Equal(new[] { new BlkioThrottleEntry(new DeviceNumber(254, 0), 1048576), new BlkioThrottleEntry(new DeviceNumber(8, 0), 10) }, entries);
        Assert.Empty(BlkioThrottleEntry.Parse(""));
        Assert.Throws<FormatException>(() => BlkioThrottleEntry.Parse("254:0\n"));
    }

    [Theory]
    [InlineData("THAWED\n", nameof(FreezerState.Thawed))]
    [InlineData("FREEZING\n", nameof(FreezerState.Freezing))]
    [InlineData("FROZEN\n", nameof(FreezerState.Frozen))]
    public void Freezer_state_reads_the_three_states(string text, string name)
    {
        FreezerState expected = Enum.Parse<FreezerState>(name);
        Assert.Equal(expected, FreezerStateFormat.Parse(text));
        Assert.Equal(text.Trim(), FreezerStateFormat.Format(expected));
    }

    [Theory]
    [InlineData("0-3,5,7-8", "0-3,5,7-8")]
    [InlineData("3,1,2", "1-3")]
    [InlineData("0", "0")]
    [InlineData("\n", "")]
    [InlineData("0-1,1-2", "0-2")]
    public void A_cpu_list_formats_canonically(string text, string expected) =>
        Assert.Equal(expected, CpuList.Format(CpuList.Parse(text)));

    [Theory]
    [InlineData("3-1")]
    [InlineData("a")]
    [InlineData("1,,2")]
    [InlineData("-1")]
    [InlineData("0-70000")]
    public void A_cpu_list_rejects_malformed_text(string text) => Assert.False(CpuList.TryParse(text, out _));

    [Theory]
    [InlineData(100, 1024L)]
    [InlineData(1, 10L)]
    [InlineData(10000, 102400L)]
    [InlineData(50, 512L)]
    public void Cpu_weight_maps_to_v1_shares_with_the_defaults_meeting(int weight, long shares)
    {
        Assert.Equal(shares, CpuShares.FromWeight(weight));
        Assert.Equal(weight, CpuShares.ToWeight(shares));
    }

    [Theory]
    [InlineData("254:0", 254u, 0u)]
    [InlineData("8:16\n", 8u, 16u)]
    public void A_device_number_reads_major_and_minor(string text, uint major, uint minor) =>
        Assert.Equal(new DeviceNumber(major, minor), DeviceNumber.Parse(text));

    [Fact]
    public void Flat_keyed_files_skip_lines_that_are_not_numbers()
    {
        IReadOnlyDictionary<string, long> values = FlatKeyedValues.Parse("a 1\nb x\nc -2\n\nd 1 2\n");
        Assert.Equal(new Dictionary<string, long> { ["a"] = 1, ["c"] = -2 }, values);
    }

    [Fact]
    public void Cpu_time_split_by_tick_samples_adds_up_to_the_precise_total()
    {
        Assert.Equal((750L, 250L), V1CpuacctController.Apportion(1000, 3, 1));
        Assert.Equal((1000L, 0L), V1CpuacctController.Apportion(1000, 0, 0));
    }
}
