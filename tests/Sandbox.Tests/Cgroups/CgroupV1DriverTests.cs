using Sandbox.Cgroups;
using Sandbox.Cgroups.V1;

namespace Sandbox.Tests.Cgroups;

/// <summary>The v1 driver against a fake of this machine's v1 hierarchies and the kernel's v1 formats.</summary>
public class CgroupV1DriverTests
{
    private const string Name = "sandbox-4026531836-4242-225652-1";
    private const string Memory = "/sys/fs/cgroup/memory/process_api/3a6b84fbe5588cbafcd37f0b2681f126/" + Name;
    private const string Pids = "/sys/fs/cgroup/pids/" + Name;
    private const string Cpu = "/sys/fs/cgroup/cpu/" + Name;
    private const string Cpuacct = "/sys/fs/cgroup/cpuacct/" + Name;
    private const string Freezer = "/sys/fs/cgroup/freezer/" + Name;
    private const string Cpuset = "/sys/fs/cgroup/cpuset/" + Name;
    private const string Blkio = "/sys/fs/cgroup/blkio/" + Name;

    private static readonly CgroupOptions WithFreezer = FakeCgroupV2Host.FastOptions with { V1Controllers = ["cpuacct", "freezer", "memory", "pids"] };

    private static readonly CgroupLimits JudgeLimits = new()
    {
        MemoryBytes = 64L << 20,
        MaxProcesses = 16,
        CpuQuota = CpuQuota.FromCpus(0.5),
        CpuWeight = 50,
    };

    [Fact]
    public void A_sandbox_cgroup_is_made_in_each_needed_hierarchy_and_limited()
    {
        var host = new FakeCgroupV1Host();
        var cgroup = (CgroupV1SandboxCgroup)host.CreateDriver().Create("1", JudgeLimits);

        Assert.Equal(
            [
                $"mkdir {Cpuacct}",
                $"mkdir {Memory}",
                $"mkdir {Pids}",
                $"mkdir {Cpu}",
                $"write {Memory}/memory.limit_in_bytes 67108864",
                $"write {Memory}/memory.memsw.limit_in_bytes 67108864",
                $"write {Pids}/pids.max 16",
                $"write {Cpu}/cpu.cfs_period_us 100000",
                $"write {Cpu}/cpu.cfs_quota_us 50000",
                $"write {Cpu}/cpu.shares 512",
            ],
            host.FileSystem.Log);
        Assert.Equal(1, cgroup.Version);
        Assert.Null(cgroup.UnifiedDirectory);
        Assert.Equal([Cpuacct, Memory, Pids, Cpu], cgroup.ProcsFiles.Select(p => p[..p.LastIndexOf('/')]));
        Assert.Equal(
            ["memory", "swap", "pids", "cpu quota", "cpu weight"],
            cgroup.Enforced.Select(e => e.Limit));
        Assert.Equal("cgroup v1 memory.memsw.limit_in_bytes=67108864 (= the memory limit)", cgroup.Enforced[1].Mechanism);
        Assert.Equal("67108864\n", host.FileSystem.Peek(Memory + "/memory.memsw.limit_in_bytes"));
        Assert.False(host.FileSystem.Exists("/sys/fs/cgroup/devices/" + Name));
        Assert.False(host.FileSystem.Exists(Freezer));
    }

    [Theory]
    [InlineData("memory and pids", "cpuacct memory pids")]
    [InlineData("CPU time only", "cpuacct memory pids")]
    [InlineData("a CPU quota", "cpuacct memory pids cpu")]
    [InlineData("a CPU weight", "cpuacct memory pids cpu")]
    [InlineData("cpus", "cpuacct memory pids cpuset")]
    [InlineData("freezer in the options", "cpuacct freezer memory pids")]
    public void Only_the_accounting_hierarchies_and_those_the_limits_use_are_joined(string limits, string hierarchies)
    {
        var host = new FakeCgroupV1Host();
        var options = limits == "freezer in the options"
            ? FakeCgroupV2Host.FastOptions with { V1Controllers = ["cpuacct", "freezer", "memory", "pids"] }
            : FakeCgroupV2Host.FastOptions;
        CgroupLimits chosen = limits switch
        {
            "memory and pids" => new CgroupLimits { MemoryBytes = 64L << 20, MaxProcesses = 16 },
            "a CPU quota" => new CgroupLimits { CpuQuota = CpuQuota.FromCpus(1) },
            "a CPU weight" => new CgroupLimits { CpuWeight = 200 },
            "cpus" => new CgroupLimits { Cpus = "0" },
            _ => CgroupLimits.None,
        };

        var cgroup = (CgroupV1SandboxCgroup)host.CreateDriver(options).Create("1", chosen);

        Assert.Equal(hierarchies, string.Join(' ', cgroup.Placements.Select(p => string.Join(',', p.Controllers))));
        Assert.Equal(cgroup.Placements.Count, host.FileSystem.Log.Count(l => l.StartsWith("mkdir", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_driver_keeps_each_parent_it_uses_open_once()
    {
        var host = new FakeCgroupV1Host();
        ICgroupDriver driver = host.CreateDriver();

        driver.Create("1", JudgeLimits);
        driver.Create("2", JudgeLimits);

        Assert.Equal(
            ["/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/memory/process_api/3a6b84fbe5588cbafcd37f0b2681f126", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu"],
            host.FileSystem.Anchored);
    }

    [Fact]
    public void Cpuset_always_gets_cpus_and_mems_so_processes_can_join()
    {
        var host = new FakeCgroupV1Host();
        var cgroup = host.CreateDriver().Create("1", JudgeLimits with { Cpus = "1" });
        host.Place(500, "cpu", "/sys/fs/cgroup/cpu");

        cgroup.AddProcess(500);

        Assert.Contains($"write {Cpuset}/cpuset.cpus 1", host.FileSystem.Log);
        Assert.Contains($"write {Cpuset}/cpuset.mems 0", host.FileSystem.Log); // inherited from the parent
        Assert.Equal(Cpuset, host.Processes[500]["cpuset"]);
        Assert.Equal(Memory, host.Processes[500]["memory"]);
        Assert.Contains(cgroup.Enforced, e => e.ToString() == "cpus: cgroup v1 cpuset.cpus=1");
        Assert.DoesNotContain(cgroup.Enforced, e => e.Limit == "mems");
    }

    [Fact]
    public void A_cpuset_without_cpus_refuses_processes_as_the_kernel_does()
    {
        var host = new FakeCgroupV1Host();
        host.FileSystem.CreateDirectory("/sys/fs/cgroup/cpuset/bare");
        host.Place(500, "cpu", "/sys/fs/cgroup/cpu");
        var e = Assert.Throws<CgroupIOException>(() => host.FileSystem.WriteText("/sys/fs/cgroup/cpuset/bare/cgroup.procs", "500"));
        Assert.Equal(CgroupIOException.ENOSPC, e.Errno);
    }

    [Fact]
    public void Blkio_limits_write_one_line_per_file_and_device()
    {
        var host = new FakeCgroupV1Host();
        var limits = new CgroupLimits
        {
            Io = [new IoDeviceLimit(new DeviceNumber(254, 0), ReadBytesPerSecond: 1 << 20, WriteOperationsPerSecond: 100)],
        };
        var cgroup = host.CreateDriver().Create("1", limits);

        Assert.Equal(
            [$"write {Blkio}/blkio.throttle.read_bps_device 254:0 1048576", $"write {Blkio}/blkio.throttle.write_iops_device 254:0 100"],
            host.FileSystem.Log.Where(l => l.Contains("blkio.throttle", StringComparison.Ordinal)));
        Assert.Equal("254:0 1048576\n", host.FileSystem.Peek(Blkio + "/blkio.throttle.read_bps_device"));
        Assert.Equal(
            "cgroup v1 blkio.throttle.read_bps_device '254:0 1048576', blkio.throttle.write_iops_device '254:0 100'",
            Assert.Single(cgroup.Enforced).Mechanism);
    }

    [Fact]
    public void Without_swap_accounting_swap_off_needs_a_host_without_swap()
    {
        var host = new FakeCgroupV1Host(hasSwapAccounting: false);
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        Assert.Contains(cgroup.Enforced, e => e is { Limit: "swap", Mechanism: "none: the host has no swap (/proc/swaps is empty)" });

        var swapping = new FakeCgroupV1Host(hasSwapAccounting: false);
        FakeProc.AddSwap(swapping.FileSystem);
        CgroupException e = Assert.Throws<CgroupException>(() => swapping.CreateDriver().Create("1", JudgeLimits));
        Assert.Contains("swapaccount=1", e.Fix, StringComparison.Ordinal);
        Assert.DoesNotContain(swapping.FileSystem.AllDirectories(), d => d.EndsWith(Name, StringComparison.Ordinal)); // rolled back
    }

    [Fact]
    public void A_refused_limit_removes_every_directory_created()
    {
        var host = new FakeCgroupV1Host();
        host.FileSystem.FailingWrites[Pids + "/pids.max"] = CgroupIOException.EINVAL;

        CgroupException e = Assert.Throws<CgroupException>(() => host.CreateDriver().Create("1", JudgeLimits));
        Assert.Equal("set the process limit (writing '16')", e.What);
        Assert.DoesNotContain(host.FileSystem.AllDirectories(), d => d.EndsWith(Name, StringComparison.Ordinal));
        Assert.Equal(4, host.FileSystem.Log.Count(l => l.StartsWith("rmdir", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_memory_limit_above_memsw_is_refused_by_the_kernel_so_the_limit_goes_first()
    {
        var host = new FakeCgroupV1Host();
        host.FileSystem.CreateDirectory("/sys/fs/cgroup/memory/x");
        host.FileSystem.WriteText("/sys/fs/cgroup/memory/x/memory.limit_in_bytes", "1000000");
        host.FileSystem.WriteText("/sys/fs/cgroup/memory/x/memory.memsw.limit_in_bytes", "1000000");
        Assert.Equal("999424\n", host.FileSystem.Peek("/sys/fs/cgroup/memory/x/memory.limit_in_bytes")); // whole pages
        var e = Assert.Throws<CgroupIOException>(() => host.FileSystem.WriteText("/sys/fs/cgroup/memory/x/memory.limit_in_bytes", "2000000"));
        Assert.Equal(CgroupIOException.EINVAL, e.Errno);
    }

    [Fact]
    public void A_configured_parent_is_created_in_each_hierarchy_and_cpuset_levels_inherit_cpus()
    {
        var host = new FakeCgroupV1Host();
        var options = FakeCgroupV2Host.FastOptions with { ParentCgroup = "/sandbox" };
        ICgroupDriver driver = host.CreateDriver(options);
        ISandboxCgroup cgroup = driver.Create("1", CgroupLimits.None with { Cpus = "0" });

        Assert.Contains("mkdir /sys/fs/cgroup/cpuset/sandbox", host.FileSystem.Log);
        Assert.Equal("0-1\n", host.FileSystem.Peek("/sys/fs/cgroup/cpuset/sandbox/cpuset.cpus"));
        Assert.Equal("0\n", host.FileSystem.Peek("/sys/fs/cgroup/cpuset/sandbox/cpuset.mems"));
        Assert.Contains("/sys/fs/cgroup/memory/sandbox/" + Name + "/cgroup.procs", cgroup.ProcsFiles);
        Assert.Equal( // not devices
            ["cpu", "cpuacct", "cpuset", "memory", "freezer", "blkio", "pids"],
            driver.ParentDirectories.Select(d => d["/sys/fs/cgroup/".Length..^"/sandbox".Length]));
    }

    [Fact]
    public void Accounting_reads_cpuacct_memory_oom_control_and_pids()
    {
        var host = new FakeCgroupV1Host();
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        host.FileSystem.SetFile(Cpuacct + "/cpuacct.usage", "559753700\n");
        host.FileSystem.SetFile(Cpuacct + "/cpuacct.usage_user", "730000000\n");
        host.FileSystem.SetFile(Cpuacct + "/cpuacct.usage_sys", "0\n");
        host.FileSystem.SetFile(Cpu + "/cpu.stat", "nr_periods 13\nnr_throttled 11\nthrottled_time 610000000\nnr_bursts 0\nburst_time 0\n");
        host.FileSystem.SetFile(Memory + "/memory.max_usage_in_bytes", "67108864\n");
        host.FileSystem.SetFile(Memory + "/memory.failcnt", "4403\n");
        host.FileSystem.SetFile(Memory + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
        host.FileSystem.SetFile(Pids + "/pids.peak", "4\n");

        Assert.Equal(
            new CgroupUsage
            {
                CpuTime = TimeSpan.FromTicks(5597537),
                UserCpuTime = TimeSpan.FromTicks(5597537), // the precise total, in the sampled ratio (all user)
                SystemCpuTime = TimeSpan.Zero,
                PeakMemoryBytes = 67108864,
                PeakMemorySource = PeakMemorySource.CgroupV1MaxUsageInBytes,
                OomKills = 1,
                PeakProcesses = 4,
            },
            cgroup.ReadUsage());
    }

    [Fact]
    public void Without_usage_user_and_sys_the_split_comes_from_cpuacct_stat_ticks()
    {
        var host = new FakeCgroupV1Host();
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        host.FileSystem.SetFile(Cpuacct + "/cpuacct.usage", "1000000000\n");
        host.FileSystem.SetFile(Cpuacct + "/cpuacct.stat", "user 75\nsystem 25\n");
        host.FileSystem.DeleteFile(Cpuacct + "/cpuacct.usage_user"); // before Linux 4.7
        host.FileSystem.DeleteFile(Cpuacct + "/cpuacct.usage_sys");

        CgroupUsage usage = cgroup.ReadUsage();
        Assert.Equal(TimeSpan.FromSeconds(1), usage.CpuTime);
        Assert.Equal(TimeSpan.FromMilliseconds(750), usage.UserCpuTime);
        Assert.Equal(TimeSpan.FromMilliseconds(250), usage.SystemCpuTime);
    }

    [Fact]
    public async Task With_a_freezer_kill_freezes_then_kills_every_pid_then_thaws()
    {
        var host = new FakeCgroupV1Host();
        var cgroup = (CgroupV1SandboxCgroup)host.CreateDriver(WithFreezer).Create("1", JudgeLimits);
        host.SpawnInto(500, cgroup);
        host.SpawnInto(501, cgroup);
        host.FileSystem.Log.Clear();

        await cgroup.KillAsync();

        Assert.Equal([$"write {Freezer}/freezer.state FROZEN", $"write {Freezer}/freezer.state THAWED"], host.FileSystem.Log);
        Assert.Equal([500, 501], host.KillCalls);
        Assert.False(host.KilledWhileThawed);
        Assert.Empty(cgroup.ReadProcesses());
        Assert.False(cgroup.IsPopulated());
    }

    [Fact]
    public async Task With_a_freezer_kill_loops_until_a_process_that_raced_the_freeze_is_gone_too()
    {
        var host = new FakeCgroupV1Host();
        var cgroup = (CgroupV1SandboxCgroup)host.CreateDriver(WithFreezer).Create("1", JudgeLimits);
        host.SpawnInto(500, cgroup);
        host.ForkOnThaw.Enqueue((600, cgroup));
        host.FileSystem.Log.Clear();

        await cgroup.KillAsync();

        Assert.Equal([500, 600], host.KillCalls);
        Assert.Equal(2, host.FileSystem.Log.Count(l => l.EndsWith("freezer.state FROZEN", StringComparison.Ordinal)));
        Assert.False(host.KilledWhileThawed);
        Assert.Equal([FakeCgroupV1Host.HostPid], host.Processes.Keys);
    }

    [Fact]
    public async Task Without_a_freezer_kill_pins_each_pid_and_kills_only_those_still_listed()
    {
        var host = new FakeCgroupV1Host(hasFreezer: false);
        var cgroup = (CgroupV1SandboxCgroup)host.CreateDriver().Create("1", JudgeLimits);
        host.SpawnInto(500, cgroup);
        host.SpawnInto(501, cgroup);
        host.ExitWhenPinned.Add(501); // exits between the listing and the signal; its pid may be reused by anyone
        host.FileSystem.Log.Clear();

        await cgroup.KillAsync();

        Assert.Equal([500], host.KillCalls);
        Assert.Equal([[500, 501]], host.PinnedBatches);
        Assert.Empty(host.FileSystem.Log);
        Assert.Empty(cgroup.ReadProcesses());
    }

    [Fact]
    public async Task Without_a_freezer_kill_loops_until_a_process_forked_meanwhile_is_gone_too()
    {
        var host = new FakeCgroupV1Host(hasFreezer: false);
        var cgroup = (CgroupV1SandboxCgroup)host.CreateDriver().Create("1", JudgeLimits);
        host.SpawnInto(500, cgroup);
        host.ForkWhenPinned.Enqueue((600, cgroup)); // forked after the listing: not signalled in the first round

        await cgroup.KillAsync();

        Assert.Equal([500, 600], host.KillCalls);
        Assert.Equal([FakeCgroupV1Host.HostPid], host.Processes.Keys);
    }

    [Fact]
    public async Task Destroy_of_an_empty_cgroup_is_one_rmdir_per_hierarchy_and_nothing_else()
    {
        var host = new FakeCgroupV1Host();
        var cgroup = (CgroupV1SandboxCgroup)host.CreateDriver().Create("1", JudgeLimits);
        host.FileSystem.Log.Clear();
        var reads = new List<string>();
        Action<string>? kernel = host.FileSystem.ReadHook;
        host.FileSystem.ReadHook = path =>
        {
            reads.Add(path);
            kernel?.Invoke(path);
        };

        await cgroup.DestroyAsync();

        Assert.Equal([$"rmdir {Cpuacct}", $"rmdir {Memory}", $"rmdir {Pids}", $"rmdir {Cpu}"], host.FileSystem.Log);
        Assert.Empty(reads);
        Assert.Empty(host.KillCalls);
    }

    [Fact]
    public async Task Destroy_of_a_cgroup_with_processes_left_kills_them_then_removes_it()
    {
        var host = new FakeCgroupV1Host();
        var cgroup = (CgroupV1SandboxCgroup)host.CreateDriver().Create("1", JudgeLimits);
        host.SpawnInto(500, cgroup);

        await cgroup.DestroyAsync();

        Assert.Equal([500], host.KillCalls);
        Assert.DoesNotContain(host.FileSystem.AllDirectories(), d => d.EndsWith(Name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Remove_takes_the_cgroup_out_of_every_hierarchy()
    {
        var host = new FakeCgroupV1Host();
        var cgroup = (CgroupV1SandboxCgroup)host.CreateDriver().Create("1", JudgeLimits);
        host.SpawnInto(500, cgroup);

        await Assert.ThrowsAsync<CgroupException>(() => cgroup.RemoveAsync()); // busy until killed
        await cgroup.KillAsync();
        await cgroup.RemoveAsync();

        Assert.DoesNotContain(host.FileSystem.AllDirectories(), d => d.EndsWith(Name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stale_cgroups_are_found_in_every_hierarchy_and_removed_together()
    {
        var host = new FakeCgroupV1Host();
        const string stale = "sandbox-4026531836-555-1000-x";
        foreach (string hierarchy in new[] { "cpu", "freezer", "pids" })
        {
            host.FileSystem.CreateDirectory($"/sys/fs/cgroup/{hierarchy}/{stale}");
        }
        host.FileSystem.CreateDirectory($"/sys/fs/cgroup/memory/process_api/3a6b84fbe5588cbafcd37f0b2681f126/{stale}");
        host.Place(900, "freezer", $"/sys/fs/cgroup/freezer/{stale}");
        host.Place(900, "pids", $"/sys/fs/cgroup/pids/{stale}");
        host.FileSystem.CreateDirectory("/sys/fs/cgroup/devices/" + stale); // not a hierarchy sandboxes use: left

        StaleCgroupSweep sweep = await host.CreateDriver().RemoveStaleAsync();

        Assert.Equal([stale], sweep.Removed);
        Assert.Equal([900], host.KillCalls);
        Assert.Equal(["/sys/fs/cgroup/devices/" + stale], host.FileSystem.AllDirectories().Where(d => d.EndsWith(stale, StringComparison.Ordinal)));
    }
}
