using Sandbox.Tests.Cgroups;
using Sandbox.Interop;
using Sandbox.Launch;
using Sandbox.Namespaces;
using Sandbox.Tests.Fakes;

namespace Sandbox.Tests.Namespaces;

/// <summary>Network namespaces made ahead of time: the pool's filling and refusal, and what the runner hands the launcher.</summary>
public sealed class PreparedNetworkNamespacesTests
{
    private const int EPERM = 1;
    private const int ENOENT = 2;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly string AnExistingFile = typeof(PreparedNetworkNamespacesTests).Assembly.Location;

    [Fact]
    public void A_new_pool_has_nothing_ready_and_fills_up_to_its_capacity_once_asked()
    {
        var kernel = Kernel(euid: 0);
        using var pool = new PreparedNetworkNamespaces(kernel, capacity: 3);

        Assert.Null(pool.TryTake());
        Assert.True(pool.WaitUntilFull(Patience));

        Assert.Equal(3, pool.ReadyCount);
        Assert.Equal(3, kernel.NetworkNamespaces.Count);
    }

    [Fact]
    public void The_namespaces_are_made_at_idle_priority_so_that_making_them_never_delays_a_launch()
    {
        var kernel = Kernel(euid: 0);
        using var pool = new PreparedNetworkNamespaces(kernel, capacity: 2);

        Assert.True(pool.WaitUntilFull(Patience));

        Assert.Equal(1, kernel.IdleThreads);
    }

    [Fact]
    public void A_taken_namespace_leaves_the_pool_and_is_replaced()
    {
        var kernel = Kernel(euid: 0);
        using var pool = new PreparedNetworkNamespaces(kernel, capacity: 2);
        Assert.True(pool.WaitUntilFull(Patience));

        var first = pool.TryTake();
        var second = pool.TryTake();
        Assert.True(pool.WaitUntilFull(Patience));

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.NotSame(first, second);
        Assert.Equal(4, kernel.NetworkNamespaces.Count);
        Assert.Equal(2, pool.ReadyCount);
    }

    [Fact]
    public void A_refusal_switches_the_pool_off_for_good_and_says_why()
    {
        var kernel = Kernel(euid: 0);
        kernel.NetworkNamespaceErrno = EPERM;
        using var pool = new PreparedNetworkNamespaces(kernel);

        Assert.False(pool.WaitUntilFull(Patience));

        Assert.Contains("EPERM", pool.DisabledBecause, StringComparison.Ordinal);
        Assert.Null(pool.TryTake());
        Assert.Equal(0, pool.ReadyCount);
    }

    [Fact]
    public void Disposing_the_pool_closes_every_ready_namespace()
    {
        var kernel = Kernel(euid: 0);
        var pool = new PreparedNetworkNamespaces(kernel, capacity: 2);
        Assert.True(pool.WaitUntilFull(Patience));

        pool.Dispose();

        Assert.All(kernel.NetworkNamespaces, ns => Assert.True(ns.IsClosed));
        Assert.Null(pool.TryTake());
    }

    [Fact]
    public async Task A_root_runner_with_a_ready_namespace_hands_it_to_the_launcher_instead_of_a_new_one_and_closes_it()
    {
        var kernel = Kernel(euid: 0);
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));
        Assert.True(runner.NetworkNamespaces!.WaitUntilFull(Patience));

        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(SandboxSpec.Command("/bin/true")));

        var plan = Assert.Single(kernel.Launched);
        var handed = kernel.NetworkNamespaces.Single(ns => (int)ns.DangerousGetHandle() == plan.NetworkNamespaceFd);
        Assert.Equal(0ul, plan.CloneFlags & CloneFlags.NewNet);
        Assert.False(plan.Flags.HasFlag(PlanFlags.LoopbackUp));
        Assert.True(handed.IsClosed);
        runner.NetworkNamespaces.Dispose();
    }

    [Fact]
    public async Task A_root_runner_creates_the_namespace_in_the_clone_when_none_is_ready()
    {
        var kernel = Kernel(euid: 0);
        kernel.NetworkNamespaceErrno = EPERM;
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));

        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(SandboxSpec.Command("/bin/true")));

        var plan = Assert.Single(kernel.Launched);
        Assert.Equal(-1, plan.NetworkNamespaceFd);
        Assert.Equal(CloneFlags.NewNet, plan.CloneFlags & CloneFlags.NewNet);
        Assert.True(plan.Flags.HasFlag(PlanFlags.LoopbackUp));
    }

    [Fact]
    public async Task A_shared_network_takes_no_prepared_namespace()
    {
        var kernel = Kernel(euid: 0);
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));
        Assert.True(runner.NetworkNamespaces!.WaitUntilFull(Patience));

        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(SandboxSpec.Command("/bin/true").WithSharedNetwork()));

        Assert.Equal(-1, Assert.Single(kernel.Launched).NetworkNamespaceFd);
        Assert.Equal(runner.NetworkNamespaces.Capacity, runner.NetworkNamespaces.ReadyCount);
        runner.NetworkNamespaces.Dispose();
    }

    [Fact]
    public void An_unprivileged_runner_has_no_pool()
    {
        var runner = new SandboxRunner(Kernel(euid: 1000), FakeHostFileSystem.SplitUsr(), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));

        Assert.Null(runner.NetworkNamespaces);
    }

    private static FakeSyscalls Kernel(uint euid) =>
        new(euid, _ => new NativeLaunchResult(-1, null, new NativeSetupError(SetupStage.ExecPayload, ENOENT, -1, "detail")));
}
