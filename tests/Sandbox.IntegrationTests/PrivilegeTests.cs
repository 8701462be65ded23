using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class PrivilegeTests
{
    private const string NoCapabilities = "0000000000000000";

    [Fact(Timeout = 60_000)]
    public async Task The_program_has_no_capabilities_in_any_set()
    {
        var values = (await Probe.RunAsync("status")).Values();

        Assert.Equal(NoCapabilities, values["CapEff"]);
        Assert.Equal(NoCapabilities, values["CapPrm"]);
        Assert.Equal(NoCapabilities, values["CapInh"]);
        Assert.Equal(NoCapabilities, values["CapBnd"]);
        Assert.Equal(NoCapabilities, values["CapAmb"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_program_runs_with_no_new_privileges()
    {
        var result = (await Probe.Command("status").RunAsync()).EnsureSuccess();

        Assert.Equal("1", result.StandardOutput.Values()["NoNewPrivs"]);
        Assert.True(result.Isolation.NoNewPrivileges);
        Assert.True(result.Isolation.CapabilitiesDropped);
    }
}
