using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class NetworkTests
{
    [Fact(Timeout = 60_000)]
    public async Task Only_the_loopback_interface_exists_by_default()
    {
        var result = (await Probe.Command("netdevs").RunAsync()).EnsureSuccess();

        Assert.Equal(["lo"], result.StandardOutput.Lines());
        Assert.Equal(NetworkIsolation.LoopbackOnly, result.Isolation.Network);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_shared_network_shows_the_host_interfaces()
    {
        var result = (await Probe.Command("netdevs").WithSharedNetwork().RunAsync()).EnsureSuccess();

        Assert.Equal(HostInterfaces().Order(StringComparer.Ordinal), result.StandardOutput.Lines().Order(StringComparer.Ordinal));
        Assert.Equal(NetworkIsolation.SharedWithHost, result.Isolation.Network);
        Assert.False(result.Isolation.Namespaces.HasFlag(SandboxNamespaces.Network));
    }

    private static IEnumerable<string> HostInterfaces() =>
        File.ReadAllLines("/proc/net/dev").Skip(2).Select(line => line.Split(':')[0].Trim());
}
