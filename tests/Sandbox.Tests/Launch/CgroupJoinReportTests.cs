using Sandbox.Interop;
using Sandbox.Launch;

namespace Sandbox.Tests.Launch;

/// <summary>What the launcher says about the cgroup join, as the result's <see cref="AppliedIsolation"/> reports it.</summary>
public sealed class CgroupJoinReportTests
{
    private const int E2BIG = 7, EINVAL = 22, ENOSYS = 38, EBUSY = 16;

    private static readonly AppliedIsolation Planned = new(
        SandboxNamespaces.User | SandboxNamespaces.Pid | SandboxNamespaces.Mount, true, new SandboxIdentity(1000, 1000),
        new SandboxIdentity(65534, 65534), "1000 65534 1", "1000 65534 1", NetworkIsolation.LoopbackOnly, true, true, true, false, false, true, []);

    private static AppliedIsolation Report(CgroupJoinMethod? join, int fallbackErrno) =>
        CgroupJoinReport.Apply(Planned, new NativeLaunchResult(4321, null, null, join, fallbackErrno));

    [Fact]
    public void A_sandbox_born_in_its_cgroup_says_so_and_names_no_fallback()
    {
        var isolation = Report(CgroupJoinMethod.CloneIntoCgroup, 0);

        Assert.Equal(CgroupJoinMethod.CloneIntoCgroup, isolation.CgroupJoin);
        Assert.Null(isolation.CgroupJoinFallback);
        Assert.Equal(Planned with { CgroupJoin = CgroupJoinMethod.CloneIntoCgroup }, isolation);
    }

    [Fact]
    public void A_v1_join_by_cgroup_procs_tried_no_clone3_and_names_no_fallback()
    {
        var isolation = Report(CgroupJoinMethod.CgroupProcs, 0);

        Assert.Equal(CgroupJoinMethod.CgroupProcs, isolation.CgroupJoin);
        Assert.Null(isolation.CgroupJoinFallback);
    }

    [Fact]
    public void A_sandbox_without_a_cgroup_reports_no_join()
    {
        var isolation = Report(null, 0);

        Assert.Null(isolation.CgroupJoin);
        Assert.Null(isolation.CgroupJoinFallback);
    }

    [Theory]
    [InlineData(ENOSYS, "ENOSYS", "seccomp filter")]
    [InlineData(E2BIG, "E2BIG", "Linux 5.7")]
    [InlineData(EINVAL, "EINVAL", "Linux 5.7")]
    [InlineData(EBUSY, "EBUSY", "cgroup.procs")]
    public void A_fallback_from_clone3_to_cgroup_procs_names_the_errno_and_its_likely_cause(int errno, string name, string cause)
    {
        var isolation = Report(CgroupJoinMethod.CgroupProcs, errno);

        Assert.Equal(CgroupJoinMethod.CgroupProcs, isolation.CgroupJoin);
        Assert.Contains(name, isolation.CgroupJoinFallback, StringComparison.Ordinal);
        Assert.Contains(cause, isolation.CgroupJoinFallback, StringComparison.Ordinal);
        Assert.Contains("cgroup.procs instead", isolation.CgroupJoinFallback, StringComparison.Ordinal);
    }
}
