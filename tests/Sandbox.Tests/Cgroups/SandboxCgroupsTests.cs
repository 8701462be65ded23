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

    /// <summary>
    /// The name of <paramref name="cgroup"/>, checked to be one SandboxCgroups gives on the fake host: pid 4242, then this
    /// test process's pid and a number unique within the process (so unique across runners) as the id.
    /// </summary>
    private static string NameOf(ISandboxCgroup? cgroup)
    {
        Assert.NotNull(cgroup);
        Assert.Matches(
            string.Create(CultureInfo.InvariantCulture, $"^sandbox-{FakeProc.PidNamespace}-{FakeCgroupV1Host.HostPid}-225652-{Environment.ProcessId}\\.[0-9]+$"),
            cgroup.Name);
        return cgroup.Name;
    }

    [Fact]
    public void File_size_and_stack_limits_are_rlimits_and_need_no_cgroup()
    {
        var host = new FakeCgroupV1Host();
        var cgroups = new SandboxCgroups(host.FileSystem, Root);

        var assignment = cgroups.Assign(Program.WithoutOwnCgroup().WithFileSizeLimit(10 * MiB).WithStackLimit(8 * MiB));

        Assert.Null(assignment.Cgroup);
        Assert.Equal([new ResourceLimit(1, 10 * MiB, 10 * MiB), new ResourceLimit(3, 8 * MiB, 8 * MiB)], assignment.ResourceLimits.ToArray());
        Assert.Equal(["file size: rlimit 1=10485760", "stack: rlimit 3=8388608"], assignment.Enforced.Select(e => e.ToString()));
        Assert.Empty(host.FileSystem.Log);
    }

    [Fact]
    public void Opting_out_of_the_own_cgroup_without_limits_enforces_nothing_and_touches_no_cgroup()
    {
        var host = new FakeCgroupV1Host();

        var assignment = new SandboxCgroups(host.FileSystem, Root).Assign(Program.WithoutOwnCgroup());

        Assert.Null(assignment.Cgroup);
        Assert.Empty(assignment.ResourceLimits);
        Assert.Empty(assignment.Enforced);
        Assert.Empty(host.FileSystem.Log);
    }

    [Fact]
    public void Without_limits_a_root_sandbox_gets_its_own_cgroup_held_to_the_default_process_limit()
    {
        var host = new FakeCgroupV1Host();

        var assignment = new SandboxCgroups(host.FileSystem, Root).Assign(Program);

        string name = NameOf(assignment.Cgroup);
        var cgroup = Assert.IsAssignableFrom<ISandboxCgroup>(assignment.Cgroup);
        Assert.Equal(
            [
                $"/sys/fs/cgroup/cpuacct/{name}/cgroup.procs",
                $"{MemoryParent}/{name}/cgroup.procs",
                $"/sys/fs/cgroup/pids/{name}/cgroup.procs",
            ],
            cgroup.ProcsFiles);
        Assert.Equal("1024\n", host.FileSystem.Peek($"/sys/fs/cgroup/pids/{name}/pids.max"));
        Assert.Equal(["pids: cgroup v1 pids.max=1024"], assignment.Enforced.Select(e => e.ToString()));
    }

    [Fact]
    public void Without_limits_a_rootless_sandbox_on_v1_runs_without_a_cgroup_and_without_an_error()
    {
        var host = RootlessV1Host();

        var assignment = new SandboxCgroups(host.FileSystem, Rootless).Assign(Program);

        Assert.Null(assignment.Cgroup);
        Assert.Empty(assignment.Enforced);
    }

    [Fact]
    public void A_spec_that_opts_out_of_its_cgroup_but_sets_a_cgroup_limit_is_invalid()
    {
        var problems = Program.WithoutOwnCgroup().WithMemoryLimit(64 * MiB).WithProcessLimit(8).Validate(hostIsRoot: true);

        var problem = Assert.Single(problems);
        Assert.Contains("WithoutOwnCgroup", problem, StringComparison.Ordinal);
        Assert.Contains("(memory, processes)", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void As_root_on_this_machine_a_sandbox_gets_a_v1_cgroup_in_each_hierarchy_with_its_limits()
    {
        var host = new FakeCgroupV1Host();
        var cgroups = new SandboxCgroups(host.FileSystem, Root);

        var assignment = cgroups.Assign(JudgeLimits.WithFileSizeLimit(MiB));

        string name = NameOf(assignment.Cgroup);
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

        Assert.NotEqual(NameOf(first.Cgroup), NameOf(second.Cgroup));
        Assert.True(host.FileSystem.Exists($"/sys/fs/cgroup/pids/{NameOf(first.Cgroup)}"));
        Assert.True(host.FileSystem.Exists($"/sys/fs/cgroup/pids/{NameOf(second.Cgroup)}"));
    }

    [Fact]
    public void A_CPU_time_limit_alone_gets_a_cgroup_to_poll()
    {
        var host = new FakeCgroupV1Host();

        var assignment = new SandboxCgroups(host.FileSystem, Root).Assign(Program.WithCpuTimeLimit(TimeSpan.FromSeconds(2)));

        Assert.NotNull(assignment.Cgroup);
        Assert.Equal(["pids: cgroup v1 pids.max=1024", "cpu time: cgroup v1 CPU usage polled every 10 ms, limit 2000 ms"], assignment.Enforced.Select(e => e.ToString()));
        Assert.Empty(assignment.ResourceLimits);
    }

    [Fact]
    public void As_root_on_cgroup_v2_a_sandbox_gets_one_cgroup_with_its_limits()
    {
        var host = new FakeCgroupV2Host();

        var assignment = new SandboxCgroups(host.FileSystem, Root).Assign(JudgeLimits);

        string name = NameOf(assignment.Cgroup);
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

    [Fact]
    public void On_v1_a_CPU_set_and_an_IO_limit_join_the_cpuset_and_blkio_hierarchies_and_say_how_they_are_enforced()
    {
        var host = new FakeCgroupV1Host();
        AddDisks(host.FileSystem);
        var spec = Program.WithCpuSet("1").AddIoLimit("/dev/disk/by-id/virtio-root", writeBytesPerSecond: 4 * MiB, readOperationsPerSecond: 100);

        Assert.Empty(new SandboxCgroups(host.FileSystem, Root).HostProblems(spec));
        var assignment = new SandboxCgroups(host.FileSystem, Root).Assign(spec);

        string name = NameOf(assignment.Cgroup);
        Assert.Contains($"/sys/fs/cgroup/cpuset/{name}/cgroup.procs", assignment.Cgroup!.ProcsFiles);
        Assert.Contains($"/sys/fs/cgroup/blkio/{name}/cgroup.procs", assignment.Cgroup.ProcsFiles);
        Assert.Equal("1\n", host.FileSystem.Peek($"/sys/fs/cgroup/cpuset/{name}/cpuset.cpus"));
        Assert.Equal("0\n", host.FileSystem.Peek($"/sys/fs/cgroup/cpuset/{name}/cpuset.mems")); // the parent's, or no task may join
        Assert.Contains("254:0 4194304", host.FileSystem.Peek($"/sys/fs/cgroup/blkio/{name}/blkio.throttle.write_bps_device"), StringComparison.Ordinal);
        Assert.Contains("254:0 100", host.FileSystem.Peek($"/sys/fs/cgroup/blkio/{name}/blkio.throttle.read_iops_device"), StringComparison.Ordinal);
        Assert.Equal(
            [
                "cpus: cgroup v1 cpuset.cpus=1",
                "pids: cgroup v1 pids.max=1024",
                "io 254:0: cgroup v1 blkio.throttle.write_bps_device '254:0 4194304', blkio.throttle.read_iops_device '254:0 100'",
            ],
            assignment.Enforced.Select(e => e.ToString()));
    }

    [Fact]
    public void On_v2_a_CPU_set_and_an_IO_limit_enable_the_cpuset_and_io_controllers_and_write_cpuset_cpus_and_io_max()
    {
        var host = new FakeCgroupV2Host();
        AddDisks(host.FileSystem);

        var assignment = new SandboxCgroups(host.FileSystem, Root).Assign(Program.WithCpuSet("0-1", "0").AddIoLimit("254:0", readBytesPerSecond: MiB));

        string dir = assignment.Cgroup!.UnifiedDirectory!;
        Assert.Contains("cpuset", host.FileSystem.Peek("/sys/fs/cgroup/cgroup.subtree_control"), StringComparison.Ordinal);
        Assert.Contains("io", host.FileSystem.Peek("/sys/fs/cgroup/cgroup.subtree_control"), StringComparison.Ordinal);
        Assert.Equal("0-1\n", host.FileSystem.Peek(dir + "/cpuset.cpus"));
        Assert.Equal("0\n", host.FileSystem.Peek(dir + "/cpuset.mems"));
        Assert.Contains("254:0 rbps=1048576", host.FileSystem.Peek(dir + "/io.max"), StringComparison.Ordinal);
        Assert.Equal(
            ["pids: cgroup v2 pids.max=1024", "cpus: cgroup v2 cpuset.cpus=0-1", "mems: cgroup v2 cpuset.mems=0", "io 254:0: cgroup v2 io.max '254:0 rbps=1048576 wbps=max riops=max wiops=max'"],
            assignment.Enforced.Select(e => e.ToString()));
    }

    [Fact]
    public void A_CPU_that_is_not_online_and_devices_that_are_not_whole_disks_are_each_named_with_the_fix()
    {
        var host = new FakeCgroupV1Host();
        AddDisks(host.FileSystem);
        var spec = Program
            .WithCpuSet("1-3")
            .AddIoLimit("/dev/vda1", readBytesPerSecond: 1)
            .AddIoLimit("254:1", writeBytesPerSecond: 1)
            .AddIoLimit("9:9", writeBytesPerSecond: 1)
            .AddIoLimit("/dev/missing", writeBytesPerSecond: 1)
            .AddIoLimit("/dev/null", writeBytesPerSecond: 1)
            .AddIoLimit("254:0", readOperationsPerSecond: 1)
            .AddIoLimit("/dev/vda", writeOperationsPerSecond: 1);

        var problems = new SandboxCgroups(host.FileSystem, Root).HostProblems(spec);

        string[] expected =
        [
            "CpuSet '1-3' names CPU 2-3, which are not online on this host (online: 0-1)",
            "'/dev/vda1' (254:1) is a partition; the kernel throttles whole disks only: limit its disk vda (254:0) instead.",
            "'254:1' (254:1) is a partition",
            "device 9:9 is not a block device of this host",
            "'/dev/missing' does not exist on this host",
            "'/dev/null' is not a block device node under /dev",
            "devices '254:0' and '/dev/vda' are the same disk (254:0)",
        ];
        Assert.Equal(expected.Length, problems.Count);
        foreach (var text in expected)
            Assert.Single(problems, p => p.Contains(text, StringComparison.Ordinal));
        var e = Assert.Throws<SandboxValidationException>(() => new SandboxCgroups(host.FileSystem, Root).Assign(Program.AddIoLimit("254:1", writeBytesPerSecond: 1)));
        Assert.Contains("is a partition", Assert.Single(e.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Rootless_on_cgroup_v1_a_CPU_set_and_IO_limits_are_refused_naming_them()
    {
        var host = RootlessV1Host();
        AddDisks(host.FileSystem);

        var e = Assert.Throws<SandboxUnsupportedException>(() => new SandboxCgroups(host.FileSystem, Rootless).Assign(Program.WithCpuSet("0").AddIoLimit("254:0", readBytesPerSecond: 1)));

        Assert.Equal("cgroups for the limits this sandbox asks for (CPU set, I/O)", e.Feature);
        Assert.Contains("a CPU set and I/O limits are then not enforced", e.HowToGetIt, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(2, false)]
    public void Peak_processes_come_from_pids_peak_where_the_kernel_has_it_and_are_null_where_it_does_not(int version, bool kernelHasPidsPeak)
    {
        FakeCgroupFileSystem fs;
        ISandboxCgroup cgroup;
        string pids;
        if (version == 1)
        {
            var host = new FakeCgroupV1Host();
            (fs, cgroup) = (host.FileSystem, new SandboxCgroups(host.FileSystem, Root).Assign(Program.WithMemoryLimit(64 * MiB)).Cgroup!);
            pids = $"/sys/fs/cgroup/pids/{cgroup.Name}";
        }
        else
        {
            var host = new FakeCgroupV2Host();
            (fs, cgroup) = (host.FileSystem, new SandboxCgroups(host.FileSystem, Root).Assign(Program.WithMemoryLimit(64 * MiB)).Cgroup!);
            pids = cgroup.UnifiedDirectory!;
        }
        if (kernelHasPidsPeak)
            fs.SetFile(pids + "/pids.peak", "7\n");
        else
            fs.DeleteFile(pids + "/pids.peak"); // Linux before 6.1

        var usage = SandboxCgroups.ToUsage(cgroup.ReadUsage());

        Assert.Equal(kernelHasPidsPeak ? 7 : null, usage.PeakProcesses);
    }

    /// <summary>This machine's disk, vda (254:0), with a partition vda1 (254:1) added, and its /dev links as udev makes them.</summary>
    private static void AddDisks(FakeCgroupFileSystem fs)
    {
        const string Disk = "/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda";
        fs.SetFile(SandboxCgroups.OnlineCpusPath, "0-1\n");
        fs.SetFile("/dev/vda", "");
        fs.SetFile("/dev/vda1", "");
        fs.SetFile("/dev/null", "");
        fs.SetFile("/dev/disk/by-id/virtio-root", "");
        fs.Links["/dev/disk/by-id/virtio-root"] = "../../vda";
        fs.SetFile("/sys/class/block/vda/dev", "254:0\n");
        fs.SetFile("/sys/class/block/vda1/dev", "254:1\n");
        fs.SetFile(Disk + "/dev", "254:0\n");
        fs.SetFile(Disk + "/vda1/dev", "254:1\n");
        fs.SetFile("/sys/dev/block/254:0/dev", "254:0\n");
        fs.SetFile("/sys/dev/block/254:1/partition", "1\n");
        fs.Links["/sys/dev/block/254:0"] = "../../devices/pci0000:00/0000:00:02.0/virtio1/block/vda";
        fs.Links["/sys/dev/block/254:1"] = "../../devices/pci0000:00/0000:00:02.0/virtio1/block/vda/vda1";
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
