using Sandbox.Cgroups;

namespace Sandbox.Tests.Cgroups;

/// <summary>Detection from real mountinfo texts: unified, legacy, hybrid (this machine), none; access and advice.</summary>
public class CgroupLayoutDetectorTests
{
    private static CgroupProblem Blocking(CgroupLayout layout) =>
        Assert.Single(layout.Problems, p => p.Severity == CgroupProblemSeverity.Blocking);

    [Fact]
    public void This_machine_is_hybrid_and_sandboxes_use_its_v1_controllers()
    {
        var host = new FakeCgroupV1Host();
        CgroupLayout layout = host.Detect();

        Assert.Equal(CgroupLayoutKind.Hybrid, layout.Kind);
        Assert.Equal(1, layout.DriverVersion);
        Assert.True(layout.IsUsable, layout.Describe());
        Assert.Equal(
            ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"],
            layout.V1Hierarchies.Select(h => string.Join(',', h.Controllers)));
        CgroupV1Hierarchy memory = layout.FindV1("memory")!;
        Assert.Equal("/process_api/3a6b84fbe5588cbafcd37f0b2681f126", memory.OwnCgroup);
        Assert.Equal("/sys/fs/cgroup/memory/process_api/3a6b84fbe5588cbafcd37f0b2681f126", memory.ParentDirectory);
        Assert.Equal("/sys/fs/cgroup/pids", layout.FindV1("pids")!.ParentDirectory);
        Assert.Equal("/sys/fs/cgroup/unified", layout.Unified!.MountPoint);
        Assert.Equal(["hugetlb"], layout.Unified.AvailableControllers);
        CgroupProblem info = Assert.Single(layout.Problems);
        Assert.Equal(CgroupProblemSeverity.Info, info.Severity);
        Assert.Contains("/sys/fs/cgroup/unified holds only [hugetlb]", info.What, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nsdelegate\nfavordynmods\nmemory_localevents\n", false, true)]
    [InlineData("nsdelegate\nfavordynmods\nmemory_localevents\n", true, false)]
    [InlineData("nsdelegate\nmemory_localevents\n", false, false)]
    [InlineData(null, false, false)]
    public void Joining_without_favordynmods_is_said_to_cost_a_grace_period_when_the_kernel_offers_it(string? features, bool mounted, bool said)
    {
        var host = new FakeCgroupV1Host();
        if (features is not null)
            host.FileSystem.SetFile("/sys/kernel/cgroup/features", features);
        if (mounted)
            host.FileSystem.MountInfo = host.FileSystem.MountInfo.Replace("cgroup2 cgroup2 rw", "cgroup2 cgroup2 rw,favordynmods", StringComparison.Ordinal);

        CgroupLayout layout = host.Detect();

        CgroupProblem[] advice = [.. layout.Problems.Where(p => p.What.Contains("favordynmods", StringComparison.Ordinal))];
        Assert.Equal(said, advice.Length == 1);
        Assert.All(advice, p => Assert.Equal(CgroupProblemSeverity.Info, p.Severity));
        Assert.All(advice, p => Assert.Contains("mount -o remount,favordynmods /sys/fs/cgroup/unified", p.Fix, StringComparison.Ordinal));
        Assert.True(layout.IsUsable);
    }

    [Fact]
    public void Detection_reads_only()
    {
        var host = new FakeCgroupV1Host();
        host.Detect(new CgroupOptions { ParentCgroup = "/sandbox" });
        var v2 = new FakeCgroupV2Host(ownCgroup: CgroupSamples.UserScopeCgroup);
        v2.Detect(euid: 1000);
        Assert.Empty(host.FileSystem.Log);
        Assert.Empty(v2.FileSystem.Log);
    }

    [Fact]
    public void A_parent_that_does_not_exist_yet_is_judged_by_its_nearest_ancestor()
    {
        var host = new FakeCgroupV1Host();
        CgroupLayout layout = host.Detect(new CgroupOptions { ParentCgroup = "/sandbox/judge" });
        CgroupV1Hierarchy pids = layout.FindV1("pids")!;
        Assert.Equal("/sys/fs/cgroup/pids/sandbox/judge", pids.ParentDirectory);
        Assert.False(pids.ParentExists);
        Assert.True(pids.Writable);
        Assert.Contains("(to be created)", layout.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Rootless_on_this_machine_is_refused_with_the_way_out()
    {
        var host = new FakeCgroupV1Host();
        foreach (string hierarchy in FakeCgroupV1Host.Hierarchies)
        {
            host.FileSystem.NotWritable.Add($"/sys/fs/cgroup/{hierarchy}");
        }
        host.FileSystem.NotWritable.Add("/sys/fs/cgroup/memory/process_api/3a6b84fbe5588cbafcd37f0b2681f126");
        CgroupLayout layout = host.Detect(euid: 1000);

        Assert.False(layout.IsUsable);
        CgroupProblem problem = Blocking(layout);
        Assert.StartsWith("Rootless sandboxes cannot use cgroup v1", problem.What, StringComparison.Ordinal);
        Assert.Contains("uid 1000", problem.What, StringComparison.Ordinal);
        Assert.Contains("systemd.unified_cgroup_hierarchy=1", problem.Fix, StringComparison.Ordinal);
        SandboxUnsupportedException e = Assert.Throws<SandboxUnsupportedException>(() => CgroupDriverFactory.Create(layout, host.FileSystem));
        Assert.Contains("Rootless sandboxes cannot use cgroup v1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Root_that_cannot_write_is_told_about_read_only_mounts_and_user_namespaces()
    {
        var host = new FakeCgroupV1Host();
        host.FileSystem.NotWritable.Add("/sys/fs/cgroup/pids");
        CgroupProblem problem = Blocking(host.Detect(euid: 0));
        Assert.Contains("Not writable even for root: /sys/fs/cgroup/pids", problem.What, StringComparison.Ordinal);
        Assert.Contains("mount -o remount,rw", problem.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_legacy_host_with_co_mounted_cpu_and_cpuacct_is_legacy()
    {
        FakeCgroupFileSystem fs = LegacyHost(CgroupSamples.LegacyMountInfo);
        CgroupLayout layout = CgroupLayoutDetector.Detect(fs, 0);

        Assert.Equal(CgroupLayoutKind.Legacy, layout.Kind);
        Assert.Null(layout.Unified);
        Assert.True(layout.IsUsable, layout.Describe());
        Assert.Empty(layout.Problems);
        Assert.Same(layout.FindV1("cpu"), layout.FindV1("cpuacct"));
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct/user.slice", layout.FindV1("cpuacct")!.ParentDirectory);
        Assert.Equal("/sys/fs/cgroup/memory/user.slice", layout.FindV1("memory")!.ParentDirectory);
        Assert.Equal(["net_cls", "net_prio"], layout.FindV1("net_prio")!.Controllers);
        Assert.DoesNotContain(layout.V1Hierarchies, h => h.MountPoint.EndsWith("systemd", StringComparison.Ordinal));
    }

    [Fact]
    public void A_legacy_host_without_the_pids_controller_says_how_to_mount_it()
    {
        FakeCgroupFileSystem fs = LegacyHost(
            string.Join('\n', CgroupSamples.LegacyMountInfo.Split('\n').Where(l => !l.Contains("pids", StringComparison.Ordinal))));
        CgroupProblem problem = Blocking(CgroupLayoutDetector.Detect(fs, 0));
        Assert.Equal("The cgroup v1 controller 'pids' is not mounted.", problem.What);
        Assert.Contains("mount -t cgroup -o pids cgroup /sys/fs/cgroup/pids", problem.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void No_cgroup_mount_at_all_is_none()
    {
        var fs = new FakeCgroupFileSystem { MountInfo = CgroupSamples.NoCgroupMountInfo, ProcSelfCgroup = "" };
        CgroupLayout layout = CgroupLayoutDetector.Detect(fs, 0);
        Assert.Equal(CgroupLayoutKind.None, layout.Kind);
        Assert.Null(layout.DriverVersion);
        Assert.False(layout.IsUsable);
        Assert.Contains("mount -t cgroup2", Blocking(layout).Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_unified_host_as_root_uses_its_own_cgroup_and_enables_what_is_missing()
    {
        var host = new FakeCgroupV2Host(ownCgroup: "/", rootSubtreeControl: "memory pids");
        host.FileSystem.CreateDirectory("/sys/fs/cgroup/init.scope"); // the root has no cgroup.kill; its children do
        CgroupLayout layout = host.Detect();

        Assert.Equal(CgroupLayoutKind.Unified, layout.Kind);
        Assert.Equal(2, layout.DriverVersion);
        Assert.True(layout.IsUsable, layout.Describe());
        CgroupV2Hierarchy v2 = layout.Unified!;
        Assert.Equal("/sys/fs/cgroup", v2.ParentDirectory);
        Assert.True(v2.ParentIsRoot);
        Assert.True(v2.HasKill);
        Assert.Equal(["memory", "pids"], v2.EnabledControllers.Order());
        CgroupProblem info = Assert.Single(layout.Problems);
        Assert.Equal("Controllers [cpu] will be enabled in /sys/fs/cgroup/cgroup.subtree_control.", info.What);
    }

    [Fact]
    public void A_real_unified_mountinfo_is_unified()
    {
        var fs = new FakeCgroupFileSystem { MountInfo = CgroupSamples.UnifiedMountInfo, ProcSelfCgroup = "0::/user.slice/user-1000.slice/session-2.scope\n" };
        CgroupLayout layout = CgroupLayoutDetector.Detect(fs, 1000);
        Assert.Equal(CgroupLayoutKind.Unified, layout.Kind);
        Assert.Equal("/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope", layout.Unified!.OwnDirectory);
    }

    [Fact]
    public void Rootless_on_v2_without_delegation_is_told_to_use_a_delegated_scope()
    {
        var host = new FakeCgroupV2Host(ownCgroup: "/user.slice/user-1000.slice/session-2.scope");
        host.FileSystem.NotWritable.Add("/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope");
        CgroupLayout layout = host.Detect(euid: 1000);

        Assert.False(layout.IsUsable);
        CgroupProblem problem = layout.Problems.First(p => p.Severity == CgroupProblemSeverity.Blocking);
        Assert.Equal(
            "Rootless on cgroup v2 needs a delegated subtree: /sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope "
            + "(and its cgroup.procs) is not writable by uid 1000.",
            problem.What);
        Assert.StartsWith("Run the host under `systemd-run --user --scope -p Delegate=yes <command>`", problem.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Rootless_in_a_delegated_scope_is_usable_once_the_host_moves_into_a_leaf()
    {
        var host = DelegatedScope("cpu memory pids");
        CgroupLayout layout = host.Detect(euid: 1000);

        Assert.True(layout.IsUsable, layout.Describe());
        Assert.True(layout.Unified!.ParentHasProcesses);
        Assert.False(layout.Unified.ParentIsRoot);
        CgroupProblem warning = Assert.Single(layout.Problems);
        Assert.Equal(CgroupProblemSeverity.Warning, warning.Severity);
        Assert.Contains($"into /sys/fs/cgroup{CgroupSamples.UserScopeCgroup}/sandbox.host and then enable [cpu memory pids]", warning.What, StringComparison.Ordinal);

        CgroupLayout strict = host.Detect(new CgroupOptions { MoveHostProcessesToLeaf = false }, euid: 1000);
        Assert.Contains("MoveHostProcessesToLeaf", Blocking(strict).Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Rootless_without_delegated_cpuset_and_io_is_told_how_to_delegate_them()
    {
        var host = DelegatedScope("cpu memory pids");
        var options = new CgroupOptions { V2Controllers = ["cpu", "cpuset", "io", "memory", "pids"] };
        CgroupProblem problem = Blocking(host.Detect(options, euid: 1000));

        Assert.Equal(
            $"Controllers [cpuset io] are not available to /sys/fs/cgroup{CgroupSamples.UserScopeCgroup} (its cgroup.controllers lists [cpu memory pids]).",
            problem.What);
        Assert.Contains("/etc/systemd/system/user@.service.d/delegate.conf", problem.Fix, StringComparison.Ordinal);
        Assert.Contains("Delegate=cpu cpuset io memory pids", problem.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void The_root_of_a_cgroup_namespace_is_not_the_real_root()
    {
        // A container with a private cgroup namespace: its cgroup shows as "/", but it has cgroup.type and processes.
        var host = new FakeCgroupV2Host(ownCgroup: "/", rootControllers: "cpu io memory pids", rootSubtreeControl: "");
        host.FileSystem.SetFile("/sys/fs/cgroup/cgroup.type", "domain\n");
        CgroupLayout layout = host.Detect();
        Assert.False(layout.Unified!.ParentIsRoot);
        Assert.Equal(CgroupProblemSeverity.Warning, Assert.Single(layout.Problems, p => p.What.Contains("holds processes", StringComparison.Ordinal)).Severity);
    }

    [Fact]
    public void A_parent_outside_the_mount_is_reported()
    {
        var fs = new FakeCgroupFileSystem
        {
            MountInfo = "35 24 0:30 /docker/abc /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n",
            ProcSelfCgroup = "0::/docker/other\n",
        };
        CgroupProblem problem = Blocking(CgroupLayoutDetector.Detect(fs, 0));
        Assert.Contains("is outside the cgroup2 mount at /sys/fs/cgroup", problem.What, StringComparison.Ordinal);
    }

    [Fact]
    public void A_kernel_without_cgroup_kill_is_mentioned()
    {
        var host = new FakeCgroupV2Host(ownCgroup: "/sandbox-parent", hasKill: false);
        host.FileSystem.SetFile("/sys/fs/cgroup/sandbox-parent/cgroup.controllers", "cpu io memory pids\n");
        host.Kill(FakeCgroupV2Host.HostPid);
        CgroupLayout layout = host.Detect();
        Assert.False(layout.Unified!.HasKill);
        Assert.Contains(layout.Problems, p => p.What.StartsWith("cgroup.kill was not found", StringComparison.Ordinal));
    }

    [Fact]
    public void The_report_for_humans_names_the_layout_and_every_problem()
    {
        string text = new FakeCgroupV1Host().Detect().Describe();
        Assert.StartsWith("cgroups: hybrid (cgroup v1 controllers, plus a cgroup2 mount), usable for uid 0\n", text, StringComparison.Ordinal);
        Assert.Contains("  v1 memory at /sys/fs/cgroup/memory: parent /sys/fs/cgroup/memory/process_api/3a6b84fbe5588cbafcd37f0b2681f126, writable\n", text, StringComparison.Ordinal);
        Assert.Contains("  info: Hybrid layout", text, StringComparison.Ordinal);
    }

    private static FakeCgroupFileSystem LegacyHost(string mountInfo)
    {
        var fs = new FakeCgroupFileSystem { MountInfo = mountInfo, ProcSelfCgroup = CgroupSamples.LegacyProcSelfCgroup };
        foreach (string dir in new[] { "cpu,cpuacct/user.slice", "memory/user.slice", "pids/user.slice", "freezer", "cpuset", "blkio/user.slice", "devices/user.slice", "net_cls,net_prio" })
        {
            fs.SetFile($"/sys/fs/cgroup/{dir}/cgroup.procs", "");
        }
        return fs;
    }

    /// <summary>A user's `systemd-run --user --scope -p Delegate=yes` scope holding the host, with <paramref name="controllers"/> delegated.</summary>
    internal static FakeCgroupV2Host DelegatedScope(string controllers)
    {
        var host = new FakeCgroupV2Host(ownCgroup: CgroupSamples.UserScopeCgroup);
        string path = "/sys/fs/cgroup";
        foreach (string part in CgroupSamples.UserScopeCgroup.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            host.FileSystem.SetFile(path + "/cgroup.subtree_control", controllers + "\n");
            path += "/" + part;
            host.FileSystem.SetFile(path + "/cgroup.controllers", controllers + "\n");
            if (!path.EndsWith(".scope", StringComparison.Ordinal) && !path.EndsWith("app.slice", StringComparison.Ordinal))
            {
                host.FileSystem.NotWritable.Add(path); // owned by root above the user's manager
            }
        }
        host.FileSystem.SetFile(path + "/cgroup.subtree_control", "\n");
        host.FileSystem.NotWritable.Remove($"/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service");
        return host;
    }
}
