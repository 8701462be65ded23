using Sandbox.Cgroups;
using Sandbox.Cgroups.V2;

namespace Sandbox.Tests.Cgroups;

/// <summary>The v2 driver's reads and writes, against a fake cgroupfs in the kernel's v2 formats.</summary>
public class CgroupV2DriverTests
{
    private const string Name = "sandbox-4026531836-4242-225652-1";
    private const string Dir = "/sys/fs/cgroup/" + Name;

    private static readonly CgroupLimits JudgeLimits = new()
    {
        MemoryBytes = 64L << 20,
        MaxProcesses = 16,
        CpuQuota = CpuQuota.FromCpus(0.5),
        CpuWeight = 200,
    };

    [Fact]
    public void Creating_a_sandbox_cgroup_writes_each_limit_to_its_file()
    {
        var host = new FakeCgroupV2Host();
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);

        Assert.Equal(
            [
                $"mkdir {Dir}",
                $"write {Dir}/memory.max 67108864",
                $"write {Dir}/memory.swap.max 0",
                $"write {Dir}/pids.max 16",
                $"write {Dir}/cpu.max 50000 100000",
                $"write {Dir}/cpu.weight 200",
            ],
            host.FileSystem.Log);
        Assert.Equal(Name, cgroup.Name);
        Assert.Equal(2, cgroup.Version);
        Assert.Equal(Dir, cgroup.UnifiedDirectory);
        Assert.Equal([Dir + "/cgroup.procs"], cgroup.ProcsFiles);
        Assert.Equal(
            ["memory: cgroup v2 memory.max=67108864", "swap: cgroup v2 memory.swap.max=0", "pids: cgroup v2 pids.max=16",
             "cpu quota: cgroup v2 cpu.max=50000 100000", "cpu weight: cgroup v2 cpu.weight=200"],
            cgroup.Enforced.Select(e => e.ToString()));
        Assert.Equal("67108864\n", host.FileSystem.Peek(Dir + "/memory.max"));
        Assert.Equal("50000 100000\n", host.FileSystem.Peek(Dir + "/cpu.max"));
    }

    [Fact]
    public void Cpuset_and_io_limits_enable_their_controllers_first()
    {
        var host = new FakeCgroupV2Host(rootSubtreeControl: "cpu memory pids");
        var limits = new CgroupLimits
        {
            Cpus = "3,1,2",
            MemoryNodes = "0",
            Io = [new IoDeviceLimit(new DeviceNumber(254, 0), ReadBytesPerSecond: 1 << 20, WriteOperationsPerSecond: 100)],
        };
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", limits);

        Assert.Equal(
            [
                "write /sys/fs/cgroup/cgroup.subtree_control +cpuset",
                "write /sys/fs/cgroup/cgroup.subtree_control +io",
                $"mkdir {Dir}",
                $"write {Dir}/cpuset.cpus 1-3",
                $"write {Dir}/cpuset.mems 0",
                $"write {Dir}/io.max 254:0 rbps=1048576 wbps=max riops=max wiops=100",
            ],
            host.FileSystem.Log);
        Assert.Equal("254:0 rbps=1048576 wbps=max riops=max wiops=100\n", host.FileSystem.Peek(Dir + "/io.max"));
        Assert.Contains(cgroup.Enforced, e => e.Limit == "io 254:0");
    }

    [Fact]
    public void Without_a_memory_limit_swap_is_left_alone()
    {
        var host = new FakeCgroupV2Host();
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", CgroupLimits.None);
        Assert.Equal([$"mkdir {Dir}"], host.FileSystem.Log);
        Assert.Empty(cgroup.Enforced);
    }

    [Fact]
    public void Swap_is_allowed_only_when_asked()
    {
        var host = new FakeCgroupV2Host();
        host.CreateDriver().Create("1", JudgeLimits with { AllowSwap = true });
        Assert.DoesNotContain(host.FileSystem.Log, l => l.Contains("memory.swap.max", StringComparison.Ordinal));
    }

    [Fact]
    public void A_kernel_without_swap_accounting_is_fine_when_the_host_has_no_swap()
    {
        var host = new FakeCgroupV2Host(hasSwapAccounting: false);
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        Assert.Contains(cgroup.Enforced, e => e is { Limit: "swap", Mechanism: "none: the host has no swap (/proc/swaps is empty)" });
    }

    [Fact]
    public void A_kernel_without_swap_accounting_refuses_swap_off_when_the_host_swaps()
    {
        var host = new FakeCgroupV2Host(hasSwapAccounting: false);
        FakeProc.AddSwap(host.FileSystem);
        CgroupException e = Assert.Throws<CgroupException>(() => host.CreateDriver().Create("1", JudgeLimits));
        Assert.Equal("turn swap off", e.What);
        Assert.Contains("swapaccount=1", e.Fix, StringComparison.Ordinal);
        Assert.False(host.FileSystem.Exists(Dir)); // rolled back
    }

    [Fact]
    public void A_value_the_kernel_refuses_is_reported_and_the_cgroup_removed()
    {
        var host = new FakeCgroupV2Host();
        host.FileSystem.FailingWrites[Dir + "/pids.max"] = CgroupIOException.EINVAL;

        CgroupException e = Assert.Throws<CgroupException>(() => host.CreateDriver().Create("1", JudgeLimits));
        Assert.Equal("set the process limit (writing '16')", e.What);
        Assert.Equal(CgroupIOException.EINVAL, e.Errno);
        Assert.Equal(Dir + "/pids.max", e.Path);
        Assert.Contains("EINVAL", e.Message, StringComparison.Ordinal);
        Assert.Equal($"rmdir {Dir}", host.FileSystem.Log[^1]);
    }

    [Fact]
    public void Invalid_limits_are_refused_before_anything_is_created()
    {
        var host = new FakeCgroupV2Host();
        var limits = new CgroupLimits { MemoryBytes = 0, CpuWeight = 0, Cpus = "3-1" };
        ArgumentException e = Assert.Throws<ArgumentException>(() => host.CreateDriver().Create("1", limits));
        Assert.Contains("memory limit must be positive", e.Message, StringComparison.Ordinal);
        Assert.Contains("CPU weight must be 1..10000", e.Message, StringComparison.Ordinal);
        Assert.Contains("'3-1'", e.Message, StringComparison.Ordinal);
        Assert.Empty(host.FileSystem.Log);
    }

    [Fact]
    public void A_controller_the_parent_cannot_enable_is_reported_with_the_fix()
    {
        var host = new FakeCgroupV2Host(rootControllers: "cpu memory pids", rootSubtreeControl: "cpu memory pids");
        var limits = new CgroupLimits { Io = [new IoDeviceLimit(new DeviceNumber(8, 0), ReadBytesPerSecond: 1)] };
        CgroupException e = Assert.Throws<CgroupException>(() => host.CreateDriver().Create("1", limits));
        Assert.Equal(CgroupIOException.ENOENT, e.Errno);
        Assert.Contains("The io controller is not available", e.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_parent_is_created_with_the_controllers_passed_down()
    {
        var host = new FakeCgroupV2Host(rootSubtreeControl: "cpu memory pids");
        var options = FakeCgroupV2Host.FastOptions with { ParentCgroup = "/sandbox/judge" };
        ISandboxCgroup cgroup = host.CreateDriver(options).Create("1", JudgeLimits);

        Assert.Equal(
            [
                "mkdir /sys/fs/cgroup/sandbox",
                "write /sys/fs/cgroup/sandbox/cgroup.subtree_control +cpu",
                "write /sys/fs/cgroup/sandbox/cgroup.subtree_control +memory",
                "write /sys/fs/cgroup/sandbox/cgroup.subtree_control +pids",
                "mkdir /sys/fs/cgroup/sandbox/judge",
                "write /sys/fs/cgroup/sandbox/judge/cgroup.subtree_control +cpu",
                "write /sys/fs/cgroup/sandbox/judge/cgroup.subtree_control +memory",
                "write /sys/fs/cgroup/sandbox/judge/cgroup.subtree_control +pids",
                $"mkdir /sys/fs/cgroup/sandbox/judge/{Name}",
            ],
            host.FileSystem.Log.Take(9));
        Assert.Equal($"/sys/fs/cgroup/sandbox/judge/{Name}", cgroup.UnifiedDirectory);
    }

    [Fact]
    public void In_a_delegated_scope_the_host_moves_into_a_leaf_before_controllers_are_enabled()
    {
        FakeCgroupV2Host host = CgroupLayoutDetectorTests.DelegatedScope("cpu memory pids");
        string scope = "/sys/fs/cgroup" + CgroupSamples.UserScopeCgroup;
        CgroupV2Driver driver = (CgroupV2Driver)CgroupDriverFactory.Create(host.Detect(FakeCgroupV2Host.FastOptions, euid: 1000), host.FileSystem, FakeCgroupV2Host.FastOptions, host);
        ISandboxCgroup cgroup = driver.Create("1", JudgeLimits);

        Assert.Equal(
            [
                $"write {scope}/cgroup.subtree_control +cpu",
                $"mkdir {scope}/sandbox.host",
                $"write {scope}/sandbox.host/cgroup.procs {FakeCgroupV2Host.HostPid}",
                $"write {scope}/cgroup.subtree_control +cpu",
                $"write {scope}/cgroup.subtree_control +memory",
                $"write {scope}/cgroup.subtree_control +pids",
                $"mkdir {scope}/{Name}",
            ],
            host.FileSystem.Log.Take(7));
        Assert.Equal($"{scope}/sandbox.host", host.Processes[FakeCgroupV2Host.HostPid]);
        Assert.Equal($"{scope}/{Name}", cgroup.UnifiedDirectory);
    }

    [Fact]
    public void A_parent_with_processes_is_refused_when_moving_them_is_not_allowed()
    {
        FakeCgroupV2Host host = CgroupLayoutDetectorTests.DelegatedScope("cpu memory pids");
        var options = FakeCgroupV2Host.FastOptions with { MoveHostProcessesToLeaf = false };
        var layout = host.Detect(options, euid: 1000) with { Problems = [] }; // go past detection to see the driver's own error
        ICgroupDriver driver = CgroupDriverFactory.Create(layout, host.FileSystem, options, host);

        CgroupException e = Assert.Throws<CgroupException>(() => driver.Create("1", JudgeLimits));
        Assert.Equal(CgroupIOException.EBUSY, e.Errno);
        Assert.Contains("holds processes", e.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_sandbox_with_the_same_id_is_refused()
    {
        var host = new FakeCgroupV2Host();
        CgroupV2Driver driver = host.CreateDriver();
        driver.Create("1", CgroupLimits.None);
        CgroupException e = Assert.Throws<CgroupException>(() => driver.Create("1", CgroupLimits.None));
        Assert.Equal(CgroupIOException.EEXIST, e.Errno);
        Assert.Contains("unique", e.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_process_joins_by_its_pid_in_cgroup_procs()
    {
        var host = new FakeCgroupV2Host();
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        host.Spawn(500, "/sys/fs/cgroup");
        cgroup.AddProcess(500);

        Assert.Equal($"write {Dir}/cgroup.procs 500", host.FileSystem.Log[^1]);
        Assert.Equal([500], cgroup.ReadProcesses());
        Assert.True(cgroup.IsPopulated());
        Assert.Throws<CgroupException>(() => cgroup.AddProcess(501)); // ESRCH: no such process
    }

    [Fact]
    public void Accounting_reads_cpu_stat_memory_peak_memory_events_and_pids()
    {
        var host = new FakeCgroupV2Host();
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        host.FileSystem.SetFile(Dir + "/cpu.stat", CgroupSamples.V2CpuStat);
        host.FileSystem.SetFile(Dir + "/memory.peak", "66801664\n");
        host.FileSystem.SetFile(Dir + "/memory.events", CgroupSamples.V2MemoryEventsAfterOom);
        host.FileSystem.SetFile(Dir + "/pids.peak", "16\n");
        host.FileSystem.SetFile(Dir + "/pids.events", "max 3\n");

        Assert.Equal(
            new CgroupUsage
            {
                CpuTime = TimeSpan.FromMicroseconds(1532417),
                UserCpuTime = TimeSpan.FromMicroseconds(1401007),
                SystemCpuTime = TimeSpan.FromMicroseconds(131410),
                ThrottledPeriods = 12,
                PeakMemoryBytes = 66801664,
                PeakMemorySource = PeakMemorySource.CgroupV2MemoryPeak,
                OomKills = 1,
                MemoryLimitHits = 1021,
                PeakProcesses = 16,
            },
            cgroup.ReadUsage());
    }

    [Fact]
    public void Before_linux_5_19_there_is_no_memory_peak_and_the_caller_is_told_to_use_rusage()
    {
        var host = new FakeCgroupV2Host(hasMemoryPeak: false);
        CgroupUsage usage = host.CreateDriver().Create("1", JudgeLimits).ReadUsage();
        Assert.Null(usage.PeakMemoryBytes);
        Assert.Equal(PeakMemorySource.None, usage.PeakMemorySource);
        Assert.Equal(TimeSpan.Zero, usage.CpuTime);
        Assert.Equal(0, usage.OomKills);
    }

    [Fact]
    public async Task Kill_writes_cgroup_kill_and_waits_until_the_cgroup_is_empty()
    {
        var host = new FakeCgroupV2Host();
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        host.Spawn(500, Dir);
        host.Spawn(501, Dir);
        host.FileSystem.CreateDirectory(Dir + "/nested"); // the payload made a child cgroup
        host.Spawn(502, Dir + "/nested");

        await cgroup.KillAsync();

        Assert.Equal($"write {Dir}/cgroup.kill 1", host.FileSystem.Log[^1]);
        Assert.Equal([500, 501, 502], host.Killed.Order());
        Assert.Empty(host.KillCalls);
        Assert.False(cgroup.IsPopulated());
    }

    [Fact]
    public async Task Without_cgroup_kill_the_sandbox_is_frozen_killed_pid_by_pid_and_thawed()
    {
        var host = new FakeCgroupV2Host(hasKill: false);
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        host.Spawn(500, Dir);
        host.Spawn(501, Dir);
        host.FileSystem.Log.Clear();

        await cgroup.KillAsync();

        Assert.Equal([$"write {Dir}/cgroup.freeze 1", $"write {Dir}/cgroup.freeze 0"], host.FileSystem.Log);
        Assert.Equal([500, 501], host.KillCalls);
        Assert.False(cgroup.IsPopulated());
    }

    [Fact]
    public async Task Kill_that_cannot_empty_the_cgroup_reports_the_stuck_process()
    {
        var host = new FakeCgroupV2Host();
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        host.FileSystem.SetFile(Dir + "/cgroup.events", "populated 1\nfrozen 0\n");
        host.FileSystem.WriteHook = (_, _) => true; // the kernel accepts cgroup.kill, but a task sits in D state

        CgroupException e = await Assert.ThrowsAsync<CgroupException>(() => cgroup.KillAsync());
        Assert.Contains("uninterruptible sleep", e.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Remove_retries_while_the_kernel_still_says_busy()
    {
        var host = new FakeCgroupV2Host();
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        host.FileSystem.CreateDirectory(Dir + "/nested");
        int refusals = 2;
        host.FileSystem.RemoveCheck = dir => dir == Dir && refusals-- > 0 ? CgroupIOException.EBUSY : null;

        await cgroup.RemoveAsync();

        Assert.False(host.FileSystem.Exists(Dir));
        Assert.Equal(-1, refusals);
        Assert.Equal($"rmdir {Dir}/nested", host.FileSystem.Log.First(l => l.StartsWith("rmdir", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Remove_gives_up_on_a_populated_cgroup_after_the_timeout()
    {
        var host = new FakeCgroupV2Host();
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        host.Spawn(500, Dir);

        CgroupException e = await Assert.ThrowsAsync<CgroupException>(() => cgroup.RemoveAsync());
        Assert.Equal(CgroupIOException.EBUSY, e.Errno);
        Assert.Contains("kill them first", e.Fix, StringComparison.Ordinal);
        await cgroup.KillAsync();
        await cgroup.RemoveAsync();
        Assert.False(host.FileSystem.Exists(Dir));
    }

    [Fact]
    public async Task Destroy_of_an_empty_cgroup_is_one_rmdir()
    {
        var host = new FakeCgroupV2Host();
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        host.FileSystem.Log.Clear();

        await cgroup.DestroyAsync();

        Assert.Equal([$"rmdir {Dir}"], host.FileSystem.Log);
        await cgroup.DestroyAsync(); // already gone: fine
    }

    [Fact]
    public async Task Destroy_of_a_cgroup_with_processes_or_children_kills_then_removes_everything()
    {
        var host = new FakeCgroupV2Host();
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        host.FileSystem.CreateDirectory(Dir + "/nested");
        host.Spawn(500, Dir + "/nested");

        await cgroup.DestroyAsync();

        Assert.Contains($"write {Dir}/cgroup.kill 1", host.FileSystem.Log);
        Assert.Equal([500], host.Killed);
        Assert.False(host.FileSystem.Exists(Dir));
    }

    [Fact]
    public async Task Destroy_reports_a_refusal_that_is_not_busy_without_killing()
    {
        var host = new FakeCgroupV2Host();
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        host.FileSystem.RemoveCheck = _ => CgroupIOException.EACCES;

        CgroupException e = await Assert.ThrowsAsync<CgroupException>(() => cgroup.DestroyAsync());

        Assert.Equal(("remove the sandbox cgroup", CgroupIOException.EACCES, Dir), (e.What, e.Errno, e.Path));
        Assert.DoesNotContain(host.FileSystem.Log, l => l.Contains("cgroup.kill", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Removing_a_cgroup_that_is_already_gone_is_fine()
    {
        var host = new FakeCgroupV2Host();
        ISandboxCgroup cgroup = host.CreateDriver().Create("1", JudgeLimits);
        await cgroup.RemoveAsync();
        await cgroup.RemoveAsync();
        await cgroup.KillAsync();
    }

    [Fact]
    public async Task Stale_cgroups_of_dead_hosts_are_killed_and_removed_and_others_left_alone()
    {
        var host = new FakeCgroupV2Host();
        FakeProc.AddProcess(host.FileSystem, 300, 1000); // a live host
        FakeProc.AddProcess(host.FileSystem, 400, 2222); // pid 400 now belongs to a newer process
        string[] names =
        [
            "sandbox-4026531836-300-1000-a",   // live host
            "sandbox-4026531836-400-1111-b",   // its host died and the pid was reused
            "sandbox-4026531836-555-1000-c",   // its host died
            "sandbox-99-555-1000-d",           // another pid namespace: cannot tell
            "sandbox-4026531836-4242-225652-e", // this host
            "sandbox-custom",                  // not ours
            "system.slice",
        ];
        foreach (string name in names)
        {
            host.FileSystem.CreateDirectory("/sys/fs/cgroup/" + name);
        }
        host.Spawn(900, "/sys/fs/cgroup/sandbox-4026531836-555-1000-c"); // an orphan the dead host left running

        StaleCgroupSweep sweep = await host.CreateDriver().RemoveStaleAsync();

        Assert.Equal(["sandbox-4026531836-400-1111-b", "sandbox-4026531836-555-1000-c"], sweep.Removed.Order());
        Assert.Equal(["sandbox-99-555-1000-d"], sweep.LeftAlone);
        Assert.Empty(sweep.Failed);
        Assert.Equal([900], host.Killed);
        Assert.Equal(
            ["sandbox-4026531836-300-1000-a", "sandbox-4026531836-4242-225652-e", "sandbox-99-555-1000-d", "sandbox-custom", "system.slice"],
            host.FileSystem.ListDirectories("/sys/fs/cgroup"));
    }
}
