using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class HostnameTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_default_hostname_is_sandbox()
    {
        var values = (await Probe.RunAsync("hostname")).Values();

        Assert.Equal("sandbox", values["hostname"]);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("judge-7")]
    [InlineData("worker.example.org")]
    public async Task A_custom_hostname_is_what_the_program_sees(string hostname)
    {
        var result = (await Probe.Command("hostname").WithHostname(hostname).RunAsync()).EnsureSuccess();

        Assert.Equal(hostname, result.StandardOutput.Values()["hostname"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task Setting_the_sandbox_hostname_leaves_the_host_hostname_alone()
    {
        string before = await File.ReadAllTextAsync("/proc/sys/kernel/hostname");

        (await Probe.Command("hostname").WithHostname("not-the-host").RunAsync()).EnsureSuccess();

        Assert.Equal(before, await File.ReadAllTextAsync("/proc/sys/kernel/hostname"));
    }
}
