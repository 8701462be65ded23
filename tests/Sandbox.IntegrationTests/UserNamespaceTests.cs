using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class UserNamespaceTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_program_runs_as_uid_and_gid_1000_without_supplementary_groups()
    {
        var values = (await Probe.RunAsync("ids")).Values();

        Assert.Equal("1000", values["uid"]);
        Assert.Equal("1000", values["euid"]);
        Assert.Equal("1000", values["gid"]);
        Assert.Equal("1000", values["egid"]);
        Assert.Equal("", values["groups"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_result_says_the_sandbox_user_is_mapped_to_nobody()
    {
        var isolation = (await Probe.Command("ids").RunAsync()).EnsureSuccess().Isolation;

        Assert.False(isolation.Rootless);
        Assert.True(isolation.Namespaces.HasFlag(SandboxNamespaces.User));
        Assert.Equal(new SandboxIdentity(1000, 1000), isolation.User);
        Assert.Equal(SandboxIdentity.Nobody, isolation.HostUser);
        Assert.Equal("1000 65534 1", isolation.UidMap);
        Assert.Equal("1000 65534 1", isolation.GidMap);
        Assert.True(isolation.SupplementaryGroupsCleared);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_host_sees_the_sandbox_processes_as_nobody()
    {
        await using var running = await Probe.Command("sleep", "30").StartAsync();

        var status = await File.ReadAllLinesAsync($"/proc/{running.Pid}/status");
        Assert.Contains("Uid:\t65534\t65534\t65534\t65534", status);
        Assert.Contains("Gid:\t65534\t65534\t65534\t65534", status);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_chosen_user_is_what_the_program_runs_as_and_what_the_map_names()
    {
        var result = (await Probe.Command("ids").WithUser(2000, 3000).RunAsync()).EnsureSuccess();

        var values = result.StandardOutput.Values();
        Assert.Equal("2000", values["uid"]);
        Assert.Equal("3000", values["gid"]);
        Assert.Equal("2000 65534 1", result.Isolation.UidMap);
        Assert.Equal("3000 65534 1", result.Isolation.GidMap);
    }
}
