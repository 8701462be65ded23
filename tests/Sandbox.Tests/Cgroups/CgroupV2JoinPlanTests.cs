using Sandbox.Cgroups;
using Sandbox.Interop;
using Sandbox.Launch;
using Sandbox.Tests.Fakes;

namespace Sandbox.Tests.Cgroups;

/// <summary>
/// What the runner hands the launcher for a sandbox with a cgroup, on fake cgroup hosts: on v2 an fd of the cgroup's
/// directory to clone into (CLONE_INTO_CGROUP) and its cgroup.procs as the fallback; on v1 the cgroup.procs of each
/// hierarchy only; and the fd closed and the cgroup removed after a failed launch.
/// </summary>
public sealed class CgroupV2JoinPlanTests
{
    private const int ENOENT = 2;
    private static readonly string AnExistingFile = typeof(CgroupV2JoinPlanTests).Assembly.Location;
    private static readonly SandboxSpec Limited = SandboxSpec.Command("/bin/true").WithCpuTimeLimit(TimeSpan.FromSeconds(1));

    private static NativeLaunchResult Failure(SetupStage stage) => new(-1, null, new NativeSetupError(stage, ENOENT, -1, "detail"));

    [Fact]
    public async Task On_cgroup_v2_the_plan_carries_an_fd_of_the_cgroup_directory_and_its_cgroup_procs_opened_as_the_fallback()
    {
        var host = new FakeCgroupV2Host();
        var kernel = new FakeSyscalls(0, _ => Failure(SetupStage.ExecPayload));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile,
            cgroups: new SandboxCgroups(host.FileSystem, 0, FakeCgroupV2Host.FastOptions));

        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(Limited));

        var plan = Assert.Single(kernel.Launched);
        var (directory, handle) = Assert.Single(host.FileSystem.Opened, o => !o.Path.EndsWith("/cgroup.procs", StringComparison.Ordinal));
        var (procs, procsHandle) = Assert.Single(host.FileSystem.Opened, o => o.Path.EndsWith("/cgroup.procs", StringComparison.Ordinal));
        Assert.Equal((int)handle.DangerousGetHandle(), plan.CgroupFd);
        Assert.Equal(directory + "/cgroup.procs", Assert.Single(plan.CgroupProcsFiles));
        // The fallback join by an fd the host opened: no path for the child to reach.
        Assert.Equal(directory + "/cgroup.procs", procs);
        Assert.Equal((int)procsHandle.DangerousGetHandle(), Assert.Single(plan.CgroupProcsFds));
        Assert.StartsWith(FakeCgroupV2Host.Mount + "/sandbox-", directory, StringComparison.Ordinal);
        Assert.True(handle.IsClosed, "The cgroup's fd was left open after the launch.");
        Assert.True(procsHandle.IsClosed, "The cgroup.procs fd was left open after the launch.");
        Assert.False(host.FileSystem.Exists(directory), "The cgroup of a failed launch was left.");
    }

    [Fact]
    public async Task On_cgroup_v1_the_plan_names_each_hierarchys_cgroup_procs_and_no_cgroup_fd()
    {
        var host = new FakeCgroupV1Host();
        var kernel = new FakeSyscalls(0, _ => Failure(SetupStage.ExecPayload));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile,
            cgroups: new SandboxCgroups(host.FileSystem, 0, FakeCgroupV2Host.FastOptions));

        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(Limited));

        var plan = Assert.Single(kernel.Launched);
        Assert.Equal(-1, plan.CgroupFd);
        Assert.Equal(["cpuacct", "memory", "pids"], plan.CgroupProcsFiles.Select(f => f.Split('/')[4]).Order(StringComparer.Ordinal));
        // Each opened by the host for the child's join: one write per hierarchy, no path to reach.
        Assert.Equal(plan.CgroupProcsFiles, host.FileSystem.Opened.Select(o => o.Path));
        Assert.Equal(host.FileSystem.Opened.Select(o => (int)o.Handle.DangerousGetHandle()), plan.CgroupProcsFds);
    }

    [Fact]
    public async Task A_sandbox_without_its_own_cgroup_gets_no_cgroup_to_join()
    {
        var host = new FakeCgroupV2Host();
        var kernel = new FakeSyscalls(0, _ => Failure(SetupStage.ExecPayload));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile,
            cgroups: new SandboxCgroups(host.FileSystem, 0, FakeCgroupV2Host.FastOptions));

        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(SandboxSpec.Command("/bin/true").WithoutOwnCgroup()));

        var plan = Assert.Single(kernel.Launched);
        Assert.Equal(-1, plan.CgroupFd);
        Assert.Empty(plan.CgroupProcsFiles);
        Assert.Empty(host.FileSystem.Opened);
    }

    [Fact]
    public void A_hybrid_host_uses_its_v1_controllers_unless_told_to_use_its_cgroup2_hierarchy()
    {
        var host = new FakeCgroupV1Host();

        var byDefault = host.Detect();
        var unified = host.Detect(new CgroupOptions { UnifiedOnHybrid = true, V2Controllers = [] });
        var unifiedWithControllers = host.Detect(new CgroupOptions { UnifiedOnHybrid = true });

        Assert.Equal((CgroupLayoutKind.Hybrid, 1), (byDefault.Kind, byDefault.DriverVersion));
        Assert.Equal((CgroupLayoutKind.Hybrid, 2), (unified.Kind, unified.DriverVersion));
        Assert.True(unified.IsUsable, unified.Describe());
        Assert.Contains(unified.Problems, p => p.Severity == CgroupProblemSeverity.Info && p.What.Contains("use the cgroup2 hierarchy at /sys/fs/cgroup/unified", StringComparison.Ordinal));
        Assert.IsType<global::Sandbox.Cgroups.V2.CgroupV2Driver>(CgroupDriverFactory.Create(unified, host.FileSystem, new CgroupOptions { UnifiedOnHybrid = true, V2Controllers = [] }));
        // The default controllers (cpu memory pids) are bound to v1 there: blocking, with the reason.
        var blocking = Assert.Single(unifiedWithControllers.Problems, p => p.Severity == CgroupProblemSeverity.Blocking);
        Assert.Contains("Controllers [cpu memory pids] are not available", blocking.What, StringComparison.Ordinal);
        Assert.False(unifiedWithControllers.IsUsable);
    }
}
