using System.Globalization;
using Sandbox.Cgroups;
using Sandbox.Launch;

namespace Sandbox.Tests.Cgroups;

/// <summary>
/// How a sandbox gets its limits (<see cref="SandboxCgroups.Assign"/>): a cgroup where the host can make one, rlimits
/// where it cannot and the spec allows them, an error naming the fix otherwise; and what the result says was enforced.
/// </summary>
public class SandboxCgroupsTests
{
    private const long MiB = 1 << 20;
    private const uint Root = 0, Rootless = 1000;
    private const string MemoryParent = "/sys/fs/cgroup/memory/process_api/3a6b84fbe5588cbafcd37f0b2681f126";

    private static readonly SandboxSpec Program = SandboxSpec.Command("/bin/true");

    private static readonly SandboxSpec JudgeLimits = Program
        .WithMemoryLimit(64 * MiB)
        .WithProcessLimit(16)
        .WithCpuTimeLimit(TimeSpan.FromMilliseconds(1500))
        .WithCpuQuota(0.5);

    /// <summary>The name SandboxCgroups gives its Nth cgroup on the fake host (pid 4242, this test process's pid in the id).</summary>
    private static string NameOf(int n) =>
        string.Create(CultureInfo.InvariantCulture, $"sandbox-{FakeProc.PidNamespace}-{FakeCgroupV1Host.HostPid}-225652-{Environment.ProcessId}.{n}");

    [Fact]
    public void File_size_and_stack_limits_are_rlimits_and_need_no_cgroup()
    {
        var host = new FakeCgroupV1Host();
        var cgroups = new SandboxCgroups(host.FileSystem, Root);

        var assignment = cgroups.Assign(Program.WithFileSizeLimit(10 * MiB).WithStackLimit(8 * MiB));

        Assert.Null(assignment.Cgroup);
        Assert.Equal([new ResourceLimit(1, 10 * MiB, 10 * MiB), new ResourceLimit(3, 8 * MiB, 8 * MiB)], assignment.ResourceLimits.ToArray());
        Assert.Equal(["file size: rlimit 1=10485760", "stack: rlimit 3=8388608"], assignment.Enforced.Select(e => e.ToString()));
        Assert.Empty(host.FileSystem.Log);
    }

    [Fact]
    public void No_limits_at_all_enforce_nothing()
    {
        var host = new FakeCgroupV1Host();

        var assignment = new SandboxCgroups(host.FileSystem, Root).Assign(Program);

        Assert.Null(assignment.Cgroup);
        Assert.Empty(assignment.ResourceLimits);
        Assert.Empty(assignment.Enforced);
        Assert.Empty(host.FileSystem.Log);
    }

    [Fact]
    public void As_root_on_this_machine_a_sandbox_gets_a_v1_cgroup_in_each_hierarchy_with_its_limits()
    {
        var host = new FakeCgroupV1Host();
        var cgroups = new SandboxCgroups(host.FileSystem, Root);

        var assignment = cgroups.Assign(JudgeLimits.WithFileSizeLimit(MiB));

        string name = NameOf(1);
        var cgroup = Assert.IsAssignableFrom<ISandboxCgroup>(assignment.Cgroup);
        Assert.Equal(name, cgroup.Name);
        Assert.Equal(1, cgroup.Version);
        Assert.Equal(
            [
                $"/sys/fs/cgroup/cpuacct/{name}/cgroup.procs",
                $"{MemoryParent}/{name}/cgroup.procs",
                $"/sys/fs/cgroup/pids/{name}/cgroup.procs",
                $"/sys/fs/cgroup/cpu/{name}/cgroup.procs",
            ],
            cgroup.ProcsFiles);
        Assert.Equal("67108864\n", host.FileSystem.Peek($"{MemoryParent}/{name}/memory.limit_in_bytes"));
        Assert.Equal("16\n", host.FileSystem.Peek($"/sys/fs/cgroup/pids/{name}/pids.max"));
        Assert.Equal("50000\n", host.FileSystem.Peek($"/sys/fs/cgroup/cpu/{name}/cpu.cfs_quota_us"));
        Assert.Equal([new ResourceLimit(1, MiB, MiB)], assignment.ResourceLimits.ToArray());
        Assert.Equal(
            [
                "file size: rlimit 1=1048576",
                "memory: cgroup v1 memory.limit_in_bytes=67108864",
                "swap: cgroup v1 memory.memsw.limit_in_bytes=67108864 (= the memory limit)",
                "pids: cgroup v1 pids.max=16",
                "cpu quota: cgroup v1 cpu.cfs_quota_us=50000 cpu.cfs_period_us=100000",
                "cpu time: cgroup v1 CPU usage polled every 10 ms, limit 1500 ms",
            ],
            assignment.Enforced.Select(e => e.ToString()));
    }

    [Fact]
    public void Each_sandbox_gets_its_own_cgroup()
    {
        var host = new FakeCgroupV1Host();
        var cgroups = new SandboxCgroups(host.FileSystem, Root);

        var first = cgroups.Assign(Program.WithProcessLimit(8));
        var second = cgroups.Assign(Program.WithProcessLimit(8));

        Assert.Equal(NameOf(1), first.Cgroup!.Name);
        Assert.Equal(NameOf(2), second.Cgroup!.Name);
        Assert.True(host.FileSystem.Exists($"/sys/fs/cgroup/pids/{NameOf(1)}"));
        Assert.True(host.FileSystem.Exists($"/sys/fs/cgroup/pids/{NameOf(2)}"));
    }

    [Fact]
    public void A_CPU_time_limit_alone_gets_a_cgroup_to_poll()
    {
        var host = new FakeCgroupV1Host();

        var assignment = new SandboxCgroups(host.FileSystem, Root).Assign(Program.WithCpuTimeLimit(TimeSpan.FromSeconds(2)));

        Assert.NotNull(assignment.Cgroup);
        Assert.Equal(["cpu time: cgroup v1 CPU usage polled every 10 ms, limit 2000 ms"], assignment.Enforced.Select(e => e.ToString()));
        Assert.Empty(assignment.ResourceLimits);
    }

    [Fact]
    public void As_root_on_cgroup_v2_a_sandbox_gets_one_cgroup_with_its_limits()
    {
        var host = new FakeCgroupV2Host();

        var assignment = new SandboxCgroups(host.FileSystem, Root).Assign(JudgeLimits);

        string name = NameOf(1);
        var cgroup = assignment.Cgroup!;
        Assert.Equal(2, cgroup.Version);
        Assert.Equal($"/sys/fs/cgroup/{name}", cgroup.UnifiedDirectory);
        Assert.Equal([$"/sys/fs/cgroup/{name}/cgroup.procs"], cgroup.ProcsFiles);
        Assert.Equal(
            [
                "memory: cgroup v2 memory.max=67108864",
                "swap: cgroup v2 memory.swap.max=0",
                "pids: cgroup v2 pids.max=16",
                "cpu quota: cgroup v2 cpu.max=50000 100000",
                "cpu time: cgroup v2 CPU usage polled every 10 ms, limit 1500 ms",
            ],
            assignment.Enforced.Select(e => e.ToString()));
        Assert.Empty(assignment.ResourceLimits);
    }

    [Fact]
    public void Rootless_on_cgroup_v1_limits_without_the_fallback_are_refused_with_the_reason_and_the_fixes()
    {
        var host = RootlessV1Host();
        var cgroups = new SandboxCgroups(host.FileSystem, Rootless);

        var e = Assert.Throws<SandboxUnsupportedException>(() => cgroups.Assign(JudgeLimits));

        Assert.Equal("cgroups for the limits this sandbox asks for (memory, processes, CPU time, CPU quota)", e.Feature);
        Assert.Contains("Rootless sandboxes cannot use cgroup v1", e.HowToGetIt, StringComparison.Ordinal);
        Assert.Contains("uid 1000", e.HowToGetIt, StringComparison.Ordinal);
        Assert.Contains("WithRlimitFallback() (--rlimit-fallback)", e.HowToGetIt, StringComparison.Ordinal);
        Assert.DoesNotContain(host.FileSystem.Log, entry => entry.StartsWith("mkdir", StringComparison.Ordinal));
    }

    [Fact]
    public void Rootless_on_cgroup_v1_the_fallback_turns_memory_and_CPU_time_into_rlimits_and_drops_the_rest()
    {
        var host = RootlessV1Host();
        var cgroups = new SandboxCgroups(host.FileSystem, Rootless);

        var assignment = cgroups.Assign(JudgeLimits.WithRlimitFallback());

        Assert.Null(assignment.Cgroup);
        // RLIMIT_AS = the memory limit; RLIMIT_CPU = the CPU time rounded up to whole seconds, SIGKILL a second later.
        Assert.Equal([new ResourceLimit(9, 64 * MiB, 64 * MiB), new ResourceLimit(0, 2, 3)], assignment.ResourceLimits.ToArray());
        Assert.Equal(
            ["memory (address space, per process): rlimit 9=67108864", "CPU time (whole seconds, per process): rlimit 0=2"],
            assignment.Enforced.Select(e => e.ToString()));
        Assert.DoesNotContain(assignment.Enforced, e => e.Limit.Contains("pids", StringComparison.Ordinal) || e.Limit.Contains("quota", StringComparison.Ordinal));
        Assert.DoesNotContain(host.FileSystem.Log, entry => entry.StartsWith("mkdir", StringComparison.Ordinal));
    }

    [Fact]
    public void Rootless_on_cgroup_v1_rlimit_only_limits_need_no_fallback()
    {
        var host = RootlessV1Host();

        var assignment = new SandboxCgroups(host.FileSystem, Rootless).Assign(Program.WithFileSizeLimit(MiB));

        Assert.Null(assignment.Cgroup);
        Assert.Equal(["file size: rlimit 1=1048576"], assignment.Enforced.Select(e => e.ToString()));
    }

    [Fact]
    public void Without_any_cgroup_mount_limits_are_refused_with_how_to_mount_one()
    {
        var fs = new FakeCgroupFileSystem { MountInfo = CgroupSamples.NoCgroupMountInfo, ProcSelfCgroup = "" };

        var e = Assert.Throws<SandboxUnsupportedException>(() => new SandboxCgroups(fs, Root).Assign(Program.WithMemoryLimit(64 * MiB)));

        Assert.Equal("cgroups for the limits this sandbox asks for (memory)", e.Feature);
        Assert.Contains("No cgroup file system is mounted", e.HowToGetIt, StringComparison.Ordinal);
        Assert.Contains("mount -t cgroup2", e.HowToGetIt, StringComparison.Ordinal);
        Assert.Contains("--rlimit-fallback", e.HowToGetIt, StringComparison.Ordinal);
    }

    [Fact]
    public void The_cgroups_accounting_becomes_the_results_usage_with_its_sources()
    {
        var usage = SandboxCgroups.ToUsage(new CgroupUsage
        {
            CpuTime = TimeSpan.FromMilliseconds(1200),
            UserCpuTime = TimeSpan.FromMilliseconds(1000),
            SystemCpuTime = TimeSpan.FromMilliseconds(200),
            PeakMemoryBytes = 34062336,
            PeakMemorySource = PeakMemorySource.CgroupV1MaxUsageInBytes,
            OomKills = 1,
            PeakProcesses = 6,
        });

        Assert.Equal(
            new ResourceUsage(TimeSpan.FromMilliseconds(1200), TimeSpan.FromMilliseconds(1000), TimeSpan.FromMilliseconds(200),
                34062336, MemorySource.CgroupV1MaxUsage, true, 6, CpuTimeSource.Cgroup),
            usage);
        Assert.Equal(MemorySource.CgroupV2MemoryPeak,
            SandboxCgroups.ToUsage(new CgroupUsage { PeakMemorySource = PeakMemorySource.CgroupV2MemoryPeak }).MemorySource);
        Assert.Equal(
            new ResourceUsage(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, null, MemorySource.None, false, null, CpuTimeSource.None),
            SandboxCgroups.ToUsage(CgroupUsage.Empty));
    }

    /// <summary>This machine, seen by an unprivileged user: no v1 hierarchy is writable.</summary>
    private static FakeCgroupV1Host RootlessV1Host()
    {
        var host = new FakeCgroupV1Host();
        foreach (string hierarchy in FakeCgroupV1Host.Hierarchies)
            host.FileSystem.NotWritable.Add($"/sys/fs/cgroup/{hierarchy}");
        host.FileSystem.NotWritable.Add(MemoryParent);
        return host;
    }
}
