using Sandbox.Cgroups;

namespace Sandbox.Tests.Cgroups;

/// <summary>
/// Cgroups made ahead of time: a launch takes a ready one instead of making its own, uses it as it is with the default
/// limits and has only its own limits written into it otherwise; the pool removes what it holds when it goes.
/// </summary>
public sealed class PreparedCgroupsTests
{
    private const long MiB = 1 << 20;
    private const string Pids = "/sys/fs/cgroup/pids";
    private const string MemoryParent = "/sys/fs/cgroup/memory/process_api/3a6b84fbe5588cbafcd37f0b2681f126";

    private static readonly SandboxSpec Program = SandboxSpec.Command("/bin/true");

    private static SandboxCgroups WithPool(FakeCgroupV1Host host) => new(host.FileSystem, 0, launches: new global::Sandbox.Launch.LaunchActivity());

    private static void Fill(SandboxCgroups cgroups)
    {
        // The first assignment starts the maker; its own cgroup is made at once.
        var first = cgroups.Assign(Program);
        Assert.NotNull(first.Cgroup);
        Assert.True(cgroups.Prepared!.WaitUntilFull(TimeSpan.FromSeconds(10)), cgroups.Prepared.DisabledBecause);
    }

    [Fact]
    public void A_sandbox_with_the_default_limits_takes_a_ready_cgroup_without_a_single_mkdir_or_write()
    {
        var host = new FakeCgroupV1Host();
        using var cgroups = WithPool(host);
        Fill(cgroups);
        var ready = cgroups.Prepared!.ReadyNames;
        int logged = host.FileSystem.Log.Count;

        var assignment = cgroups.Assign(Program);

        Assert.Contains(assignment.Cgroup!.Name, ready);
        Assert.True(cgroups.Prepared.WaitUntilFull(TimeSpan.FromSeconds(10))); // the maker is idle again: the log holds still
        // (The maker meanwhile makes a replacement under another name.)
        Assert.DoesNotContain(host.FileSystem.Log.Skip(logged), entry => entry.Contains(assignment.Cgroup.Name, StringComparison.Ordinal));
        Assert.Equal("1024\n", host.FileSystem.Peek($"{Pids}/{assignment.Cgroup.Name}/pids.max"));
        Assert.Equal(["pids: cgroup v1 pids.max=1024"], assignment.Enforced.Select(e => e.ToString()));
    }

    [Fact]
    public void A_sandbox_with_its_own_limits_has_them_written_into_a_ready_cgroup_and_the_hierarchies_it_lacks_added()
    {
        var host = new FakeCgroupV1Host();
        using var cgroups = WithPool(host);
        Fill(cgroups);
        var ready = cgroups.Prepared!.ReadyNames;

        var assignment = cgroups.Assign(Program.WithMemoryLimit(64 * MiB).WithProcessLimit(16).WithCpuQuota(0.5));

        string name = assignment.Cgroup!.Name;
        Assert.Contains(name, ready);
        Assert.True(cgroups.Prepared.WaitUntilFull(TimeSpan.FromSeconds(10))); // the maker is idle again: the log holds still
        var ownEntries = host.FileSystem.Log.Where(entry => entry.Contains(name, StringComparison.Ordinal)).ToList();
        Assert.Equal([$"mkdir /sys/fs/cgroup/cpu/{name}"], ownEntries.Where(e => e.StartsWith("mkdir", StringComparison.Ordinal)).Skip(3));
        Assert.Equal("16\n", host.FileSystem.Peek($"{Pids}/{name}/pids.max"));
        Assert.Equal("50000\n", host.FileSystem.Peek($"/sys/fs/cgroup/cpu/{name}/cpu.cfs_quota_us"));
        Assert.Equal(4, assignment.Cgroup.ProcsFiles.Count);
        Assert.Equal(
            [
                "memory: cgroup v1 memory.limit_in_bytes=67108864",
                "swap: cgroup v1 memory.memsw.limit_in_bytes=67108864 (= the memory limit)",
                "pids: cgroup v1 pids.max=16",
                "cpu quota: cgroup v1 cpu.cfs_quota_us=50000 cpu.cfs_period_us=100000",
            ],
            assignment.Enforced.Select(e => e.ToString()));
    }

    [Fact]
    public void Limits_asked_for_twice_are_kept_ready_and_the_next_sandbox_with_them_has_nothing_written_at_its_launch()
    {
        var host = new FakeCgroupV1Host();
        using var cgroups = WithPool(host);
        Fill(cgroups);
        var judge = Program.WithMemoryLimit(64 * MiB).WithProcessLimit(16).WithCpuQuota(0.5);
        var first = cgroups.Assign(judge);
        Assert.True(cgroups.Prepared!.WaitUntilFull(TimeSpan.FromSeconds(10)));
        Assert.Empty(cgroups.Prepared.Templates); // once is not a habit
        _ = cgroups.Assign(judge);
        Assert.Single(cgroups.Prepared.Templates);
        Assert.True(cgroups.Prepared!.WaitUntilFull(TimeSpan.FromSeconds(10)), cgroups.Prepared.DisabledBecause);
        var madeWithTheLimits = cgroups.Prepared.ReadyNames;
        int logged = host.FileSystem.Log.Count;

        var second = cgroups.Assign(judge);

        string name = second.Cgroup!.Name;
        Assert.Contains(name, madeWithTheLimits);
        Assert.True(cgroups.Prepared.WaitUntilFull(TimeSpan.FromSeconds(10))); // the maker is idle again: the log holds still
        Assert.DoesNotContain(host.FileSystem.Log.Skip(logged), entry => entry.Contains(name, StringComparison.Ordinal));
        Assert.Equal("67108864\n", host.FileSystem.Peek($"{MemoryParent}/{name}/memory.limit_in_bytes"));
        Assert.Equal("16\n", host.FileSystem.Peek($"{Pids}/{name}/pids.max"));
        Assert.Equal("50000\n", host.FileSystem.Peek($"/sys/fs/cgroup/cpu/{name}/cpu.cfs_quota_us"));
        Assert.Equal(first.Enforced.Select(e => e.ToString()), second.Enforced.Select(e => e.ToString()));
        Assert.Equal(4, second.Cgroup.ProcsFiles.Count);
    }

    [Fact]
    public void Only_the_latest_limit_sets_are_kept_ready_and_a_pushed_out_sets_cgroups_are_removed()
    {
        var host = new FakeCgroupV1Host();
        using var cgroups = WithPool(host);
        Fill(cgroups);
        var sets = Enumerable.Range(1, PreparedCgroups.MaxTemplates + 1).Select(n => Program.WithProcessLimit(10 + n)).ToList();
        _ = cgroups.Assign(sets[0]);
        _ = cgroups.Assign(sets[0]);
        Assert.True(cgroups.Prepared!.WaitUntilFull(TimeSpan.FromSeconds(10)));
        var readyForTheFirst = cgroups.Prepared.ReadyNames.Where(n => host.FileSystem.Peek($"{Pids}/{n}/pids.max") == "11\n").ToList();
        Assert.NotEmpty(readyForTheFirst);

        foreach (var spec in sets.Skip(1))
        {
            _ = cgroups.Assign(spec);
            _ = cgroups.Assign(spec);
        }
        Assert.True(cgroups.Prepared.WaitUntilFull(TimeSpan.FromSeconds(10)));

        Assert.Equal([13L, 12L], cgroups.Prepared.Templates.Select(t => t.MaxProcesses!.Value));
        Assert.All(readyForTheFirst, name => Assert.False(host.FileSystem.Exists($"{Pids}/{name}")));
        Assert.Equal(cgroups.Prepared.CapacityPerTemplate * (PreparedCgroups.MaxTemplates + 1), cgroups.Prepared.ReadyCount);
    }

    [Fact]
    public void Limits_that_keep_changing_are_never_kept_ready()
    {
        var host = new FakeCgroupV1Host();
        using var cgroups = WithPool(host);
        Fill(cgroups);

        for (int n = 1; n <= 2 * PreparedCgroups.RecentLaunches; n++)
            _ = cgroups.Assign(Program.WithProcessLimit(100 + n));

        Assert.Empty(cgroups.Prepared!.Templates);
    }

    [Fact]
    public async Task Disposing_the_pool_removes_every_ready_cgroup_and_leaves_the_taken_ones()
    {
        var host = new FakeCgroupV1Host();
        var cgroups = WithPool(host);
        Fill(cgroups);
        var taken = cgroups.Assign(Program).Cgroup!;
        var ready = cgroups.Prepared!.ReadyNames;
        Assert.NotEmpty(ready);

        cgroups.Dispose();

        Assert.All(ready, name => Assert.False(host.FileSystem.Exists($"{Pids}/{name}")));
        Assert.True(host.FileSystem.Exists($"{Pids}/{taken.Name}"));
        await taken.DestroyAsync();
    }

    [Fact]
    public void A_pool_that_cannot_make_cgroups_stops_and_launches_make_their_own()
    {
        var host = new FakeCgroupV1Host();
        using var cgroups = WithPool(host);
        Fill(cgroups);
        foreach (var name in cgroups.Prepared!.ReadyNames)
            _ = cgroups.Assign(Program);
        host.FileSystem.NotWritable.Add(Pids);

        var refused = Assert.ThrowsAny<SandboxException>(() =>
        {
            for (int i = 0; i < 20; i++)
                cgroups.Assign(Program);
        });

        Assert.Contains(Pids, refused.Message, StringComparison.Ordinal);
        Assert.False(cgroups.Prepared.WaitUntilFull(TimeSpan.FromSeconds(5)));
        Assert.Contains("EACCES", cgroups.Prepared.DisabledBecause, StringComparison.Ordinal);
    }

    [Fact]
    public void A_prepared_cgroup_has_the_files_its_accounting_reads_open_before_its_sandbox_exists()
    {
        var host = new FakeCgroupV1Host();
        using var cgroups = WithPool(host);
        Fill(cgroups);

        var name = cgroups.Assign(Program).Cgroup!.Name;

        string[] expected =
        [
            $"/sys/fs/cgroup/cpuacct/{name}/cpuacct.usage", $"/sys/fs/cgroup/cpuacct/{name}/cpuacct.usage_user",
            $"/sys/fs/cgroup/cpuacct/{name}/cpuacct.usage_sys", $"{MemoryParent}/{name}/memory.max_usage_in_bytes",
            $"{MemoryParent}/{name}/memory.oom_control", $"{Pids}/{name}/pids.peak",
        ];
        Assert.True(cgroups.Prepared!.WaitUntilFull(TimeSpan.FromSeconds(10)));
        Assert.Equal(expected.Order(StringComparer.Ordinal), host.FileSystem.KeptOpen.Where(f => f.Contains(name, StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_prepared_cgroup_has_its_cgroup_procs_open_for_the_childs_join_one_per_hierarchy_in_order()
    {
        var host = new FakeCgroupV1Host();
        using var cgroups = WithPool(host);
        Fill(cgroups);

        var cgroup = cgroups.Assign(Program).Cgroup!;

        Assert.Equal(cgroup.ProcsFiles.Count, cgroup.JoinFiles.Count);
        var opened = host.FileSystem.Opened.Where(o => o.Path.Contains(cgroup.Name, StringComparison.Ordinal)).ToList();
        Assert.Equal(cgroup.ProcsFiles, opened.Select(o => o.Path));
        Assert.Equal(opened.Select(o => o.Handle.DangerousGetHandle()), cgroup.JoinFiles.Select(f => f.DangerousGetHandle()));
    }

    [Fact]
    public void A_ready_cgroup_given_other_limits_drops_its_open_cgroup_procs_as_the_limits_may_add_a_hierarchy()
    {
        var host = new FakeCgroupV1Host();
        using var cgroups = WithPool(host);
        Fill(cgroups);

        var cgroup = cgroups.Assign(Program.WithCpuQuota(0.5)).Cgroup!;

        Assert.Equal(4, cgroup.ProcsFiles.Count);
        Assert.Empty(cgroup.JoinFiles);
    }

    [Fact]
    public async Task A_cgroup_closes_its_open_cgroup_procs_when_it_is_removed()
    {
        var host = new FakeCgroupV1Host();
        using var cgroups = WithPool(host);
        Fill(cgroups);
        var cgroup = cgroups.Assign(Program).Cgroup!;
        Assert.NotEmpty(cgroup.JoinFiles);

        await cgroup.DestroyAsync();

        Assert.Empty(cgroup.JoinFiles);
    }

    [Fact]
    public void Without_the_runners_launch_activity_there_is_no_pool()
    {
        var host = new FakeCgroupV1Host();
        using var cgroups = new SandboxCgroups(host.FileSystem, 0);

        Assert.NotNull(cgroups.Assign(Program).Cgroup);
        Assert.Null(cgroups.Prepared);
    }
}
