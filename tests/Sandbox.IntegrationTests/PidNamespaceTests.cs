using System.Globalization;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class PidNamespaceTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_program_is_pid_2_and_its_parent_is_the_sandbox_init()
    {
        var values = (await Probe.RunAsync("pid")).Values();

        Assert.Equal("2", values["pid"]);
        Assert.Equal("1", values["ppid"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task Proc_shows_only_the_sandbox_init_and_the_program()
    {
        var pids = (await Probe.RunAsync("pids")).Lines();

        Assert.Equal(["1", "2"], pids);
        Assert.DoesNotContain(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), pids);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_handle_reports_the_host_pid_of_the_sandbox_init()
    {
        await using var running = await Probe.Command("sleep", "30").StartAsync();

        string cmdline = await File.ReadAllTextAsync($"/proc/{running.Pid}/cmdline");
        Assert.StartsWith("sandbox-init\0/probe\0sleep\0", cmdline, StringComparison.Ordinal);
    }
}
