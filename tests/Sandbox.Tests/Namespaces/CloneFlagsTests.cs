using Sandbox.Namespaces;

namespace Sandbox.Tests.Namespaces;

/// <summary>Which CLONE_NEW* flag each namespace asks for (the values themselves are checked against sched.h in PlanLayoutTests).</summary>
public sealed class CloneFlagsTests
{
    [Theory]
    [InlineData(SandboxNamespaces.User, CloneFlags.NewUser)]
    [InlineData(SandboxNamespaces.Pid, CloneFlags.NewPid)]
    [InlineData(SandboxNamespaces.Mount, CloneFlags.NewNs)]
    [InlineData(SandboxNamespaces.Network, CloneFlags.NewNet)]
    [InlineData(SandboxNamespaces.Ipc, CloneFlags.NewIpc)]
    [InlineData(SandboxNamespaces.Uts, CloneFlags.NewUts)]
    [InlineData(SandboxNamespaces.Cgroup, CloneFlags.NewCgroup)]
    public void Each_namespace_asks_for_its_own_clone_flag(SandboxNamespaces ns, ulong flag)
    {
        Assert.Equal(flag, CloneFlags.For(ns));
        Assert.Equal(CloneFlags.For(SandboxNamespaces.All) & ~flag, CloneFlags.For(SandboxNamespaces.All & ~ns));
    }

    [Fact]
    public void No_namespace_asks_for_no_flag_and_all_ask_for_every_flag()
    {
        Assert.Equal(0ul, CloneFlags.For(SandboxNamespaces.None));
        Assert.Equal(
            CloneFlags.NewUser | CloneFlags.NewPid | CloneFlags.NewNs | CloneFlags.NewNet | CloneFlags.NewIpc | CloneFlags.NewUts | CloneFlags.NewCgroup,
            CloneFlags.For(SandboxNamespaces.All));
    }

    [Fact]
    public void Every_namespace_of_the_enum_is_part_of_All()
    {
        var each = Enum.GetValues<SandboxNamespaces>().Where(n => n is not SandboxNamespaces.None and not SandboxNamespaces.All);

        Assert.Equal(SandboxNamespaces.All, each.Aggregate(SandboxNamespaces.None, (a, n) => a | n));
    }
}
