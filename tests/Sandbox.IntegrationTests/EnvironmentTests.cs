using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class EnvironmentTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_program_gets_the_default_path_and_home_and_what_was_set_nothing_else()
    {
        var result = (await Probe.Command("env").WithEnvironmentVariable("GREETING", "hello world").RunAsync()).EnsureSuccess();

        Assert.Equal(
            ["GREETING=hello world", "HOME=/tmp", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            result.StandardOutput.Lines().Order(StringComparer.Ordinal));
        Assert.False(result.Isolation.EnvironmentInherited);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_variable_of_the_host_process_does_not_reach_the_program()
    {
        string name = "SANDBOX_IT_HOST_ONLY_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "leaked");
        try
        {
            var output = await Probe.RunAsync("env");

            Assert.DoesNotContain(output.Lines(), line => line.StartsWith(name, StringComparison.Ordinal));
            Assert.Equal(2, output.Lines().Length);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_replaced_environment_is_all_the_program_gets()
    {
        var spec = Probe.Command("env").WithEnvironment([new("ONLY", "this")]);

        var result = (await spec.RunAsync()).EnsureSuccess();

        Assert.Equal(["ONLY=this"], result.StandardOutput.Lines());
    }
}
