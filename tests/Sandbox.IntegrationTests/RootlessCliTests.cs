using System.Text.Json;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

/// <summary>
/// The same isolation for an unprivileged host: the CLI runs as nobody (65534) through setpriv, and
/// the sandbox is built from a user namespace that maps only that uid.
/// </summary>
public sealed class RootlessCliTests
{
    /// <summary>probe arguments → the CLI's exit code.</summary>
    public static TheoryData<string[], int> ExitCodes => new()
    {
        { ["exit", "0"], 0 },
        { ["exit", "7"], 7 },
        { ["kill-self", "15"], 143 },
        { ["kill-self", "9"], 137 },
    };

    [Fact(Timeout = 60_000)]
    public async Task The_program_runs_as_uid_1000_mapped_to_the_unprivileged_caller()
    {
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);
        string json = dir.Combine("result.json");

        var run = await RootlessCli.RunProbeAsync(["--result-json", json], "ids");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("1000", ProbeOutput.Values(run.StandardOutput)["uid"]);
        Assert.Equal("1000", ProbeOutput.Values(run.StandardOutput)["gid"]);
        using var result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var isolation = result.RootElement.GetProperty("isolation");
        Assert.Equal("ok", result.RootElement.GetProperty("outcome").GetString());
        Assert.True(isolation.GetProperty("rootless").GetBoolean());
        Assert.Equal("1000 65534 1", isolation.GetProperty("uidMap").GetString());
        Assert.Equal("1000 65534 1", isolation.GetProperty("gidMap").GetString());
    }

    [Theory(Timeout = 60_000)]
    [InlineData(null, "sandbox")]
    [InlineData("rootless-box", "rootless-box")]
    public async Task The_hostname_is_the_sandbox_one(string? option, string expected)
    {
        var run = await RootlessCli.RunProbeAsync(option is null ? [] : ["--hostname", option], "hostname");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(expected, ProbeOutput.Values(run.StandardOutput)["hostname"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task Only_the_loopback_interface_exists()
    {
        var run = await RootlessCli.RunProbeAsync([], "netdevs");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["lo"], ProbeOutput.Lines(run.StandardOutput));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_program_has_no_capabilities_and_no_new_privileges()
    {
        var run = await RootlessCli.RunProbeAsync([], "status");

        Assert.True(run.ExitCode == 0, run.ToString());
        var values = ProbeOutput.Values(run.StandardOutput);
        Assert.Equal("0000000000000000", values["CapEff"]);
        Assert.Equal("0000000000000000", values["CapBnd"]);
        Assert.Equal("1", values["NoNewPrivs"]);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("/etc/new-file")]
    [InlineData("/usr/new-file")]
    [InlineData("/new-file")]
    public async Task The_root_is_read_only(string path)
    {
        var run = await RootlessCli.RunProbeAsync([], "write", path);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["EROFS"], ProbeOutput.Lines(run.StandardOutput));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_program_sees_only_its_own_pid_namespace()
    {
        var pid = await RootlessCli.RunProbeAsync([], "pid");
        var pids = await RootlessCli.RunProbeAsync([], "pids");

        Assert.True(pid.ExitCode == 0, pid.ToString());
        Assert.Equal("2", ProbeOutput.Values(pid.StandardOutput)["pid"]);
        Assert.Equal("1", ProbeOutput.Values(pid.StandardOutput)["ppid"]);
        Assert.Equal(["1", "2"], ProbeOutput.Lines(pids.StandardOutput));
    }

    [Fact(Timeout = 60_000)]
    public async Task Writes_through_a_writable_bind_reach_the_host()
    {
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);

        var run = await RootlessCli.RunProbeAsync(["--bind", $"{dir.Path}:/out"], "write", "/out/result.txt");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["ok"], ProbeOutput.Lines(run.StandardOutput));
        Assert.Equal("written by sandbox-probe\n", await File.ReadAllTextAsync(dir.Combine("result.txt")));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_wall_time_limit_kills_the_whole_sandbox_with_exit_code_137()
    {
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);
        string json = dir.Combine("result.json");
        string marker = HostProcesses.NewMarker();

        var run = await RootlessCli.RunProbeAsync(["--wall-time", "1s", "--result-json", json], "fork-sleepers", "2", marker);

        Assert.True(run.ExitCode == 137, run.ToString());
        Assert.Equal(2, ProbeOutput.Lines(run.StandardOutput).Count(l => l.StartsWith("sleeper=", StringComparison.Ordinal)));
        using var result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.Equal("timedOut", result.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(9, result.RootElement.GetProperty("signal").GetInt32());
        Assert.Empty(HostProcesses.WithMarker(marker));
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(ExitCodes))]
    public async Task The_exit_code_is_the_program_status_or_128_plus_the_signal(string[] probeArguments, int exitCode)
    {
        var run = await RootlessCli.RunProbeAsync([], probeArguments);

        Assert.True(run.ExitCode == exitCode, run.ToString());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_program_that_does_not_exist_exits_127_and_says_why()
    {
        var run = await RootlessCli.RunAsync("run", "--", "/no/such/program");

        Assert.True(run.ExitCode == 127, run.ToString());
        Assert.Contains("ExecPayload", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("ENOENT", run.StandardError, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_invalid_option_exits_2()
    {
        var run = await RootlessCli.RunAsync("run", "--hostname", "two words", "--", "/bin/true");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("Hostname 'two words' is invalid", run.StandardError, StringComparison.Ordinal);
    }
}
