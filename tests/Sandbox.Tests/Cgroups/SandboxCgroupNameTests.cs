using Sandbox.Cgroups;

namespace Sandbox.Tests.Cgroups;

/// <summary>Sandbox cgroup names carry the creating host's stamp, so stale ones can be told from live ones.</summary>
public class SandboxCgroupNameTests
{
    private static readonly HostProcessStamp Host = new(FakeProc.PidNamespace, 4242, 225652);

    [Fact]
    public void A_name_holds_the_pid_namespace_pid_start_time_and_id() =>
        Assert.Equal("sandbox-4026531836-4242-225652-run-7", SandboxCgroupName.Format(Host, "run-7"));

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("..\u00e9")]
    public void An_id_that_is_not_a_safe_file_name_is_refused(string id) =>
        Assert.Throws<ArgumentException>(() => SandboxCgroupName.Format(Host, id));

    [Theory]
    [InlineData("sandbox-foo")]
    [InlineData("sandbox-1-2-3")]
    [InlineData("sandbox-1-2-3-")]
    [InlineData("sandbox-01-2-3-x")]
    [InlineData("sandbox.host")]
    [InlineData("user.slice")]
    public void Names_not_written_by_a_host_do_not_parse(string name) =>
        Assert.False(SandboxCgroupName.TryParse(name, out _, out _));

    [Fact]
    public void A_host_is_alive_while_its_pid_has_the_same_start_time()
    {
        var fs = new FakeCgroupFileSystem();
        FakeProc.InstallSelf(fs);
        HostProcessStamp current = HostProcessStamp.ReadCurrent(fs);
        Assert.Equal(Host, current);
        FakeProc.AddProcess(fs, 100, 5000);

        Assert.True(new HostProcessStamp(FakeProc.PidNamespace, 100, 5000).IsAlive(fs, current));
        Assert.False(new HostProcessStamp(FakeProc.PidNamespace, 100, 4000).IsAlive(fs, current)); // pid reused
        Assert.False(new HostProcessStamp(FakeProc.PidNamespace, 101, 5000).IsAlive(fs, current)); // gone
        Assert.Null(new HostProcessStamp(1234, 100, 5000).IsAlive(fs, current)); // another pid namespace
        Assert.True(current.IsAlive(fs, current));
        Assert.False((current with { StartTime = 1 }).IsAlive(fs, current)); // an earlier process with our pid
    }
}
