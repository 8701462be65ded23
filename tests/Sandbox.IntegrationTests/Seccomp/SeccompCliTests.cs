using System.Text.Json;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests.Seccomp;

/// <summary><c>sandbox run --seccomp</c>: as an unprivileged user and as root, with built-in policies and a Docker profile.</summary>
[Collection(SeccompKillsCollection.Name)]
public sealed class SeccompCliTests
{
    /// <summary>A Docker profile that allows everything but getppid, which kills the process.</summary>
    private const string KillGetppidProfile = """
        {
          "defaultAction": "SCMP_ACT_ALLOW",
          "syscalls": [ { "names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS" } ]
        }
        """;

    [Fact(Timeout = 60_000)]
    public async Task An_unprivileged_caller_gets_the_default_policy_and_its_refusals()
    {
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);
        string json = dir.Combine("result.json");

        var run = await RootlessCli.RunProbeAsync(["--result-json", json], "syscall", "mount", "clone3", "socket-vsock", "read");

        Assert.True(run.ExitCode == 0, run.ToString());
        var values = ProbeOutput.Values(run.StandardOutput);
        Assert.Equal("EPERM", values["mount"]);
        Assert.Equal("ENOSYS", values["clone3"]);
        Assert.Equal("EAFNOSUPPORT", values["socket-vsock"]);
        Assert.Equal("ok", values["read"]);
        using var result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.Equal("default", result.RootElement.GetProperty("seccomp").GetString());
        Assert.True(result.RootElement.GetProperty("isolation").GetProperty("seccompInstructions").GetInt32() > 0);
        Assert.False(result.RootElement.GetProperty("isolation").TryGetProperty("seccomp", out _));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unprivileged_caller_can_choose_the_judge_policy_or_none()
    {
        var judge = await RootlessCli.RunProbeAsync(["--seccomp", "judge"], "syscall", "socket-inet", "fork");
        var none = await RootlessCli.RunProbeAsync(["--seccomp", "unconfined"], "status");

        Assert.True(judge.ExitCode == 0, judge.ToString());
        Assert.Equal("EACCES", ProbeOutput.Values(judge.StandardOutput)["socket-inet"]);
        Assert.Equal("EPERM", ProbeOutput.Values(judge.StandardOutput)["fork"]);
        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.Equal("0", ProbeOutput.Values(none.StandardOutput)["Seccomp"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_kill_under_an_imported_Docker_profile_exits_159_and_the_result_names_the_call()
    {
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);
        string profile = dir.Combine("kill-getppid.json"), json = dir.Combine("result.json");
        await File.WriteAllTextAsync(profile, KillGetppidProfile);

        var run = await RootlessCli.RunProbeAsRootAsync(["--seccomp", profile, "--result-json", json], "getppid");

        Assert.True(run.ExitCode == 159, run.ToString());
        Assert.Contains("getppid", run.StandardError, StringComparison.Ordinal);
        using var result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var root = result.RootElement;
        Assert.Equal("seccompViolation", root.GetProperty("outcome").GetString());
        Assert.Equal(31, root.GetProperty("signal").GetInt32());
        Assert.Equal(profile, root.GetProperty("seccomp").GetString());
        Assert.Equal("getppid", root.GetProperty("seccompSyscall").GetString());
        Assert.True(Sandbox.Seccomp.Tables.SyscallTable.For(Sandbox.Seccomp.SeccompArchitectures.Native!.Value).TryGetNumber("getppid", out int number));
        Assert.Equal(number, root.GetProperty("seccompSyscallNumber").GetInt32());
    }

    [Theory(Timeout = 60_000)]
    [InlineData("no-such-policy", "is neither default, judge, unconfined nor an existing file")]
    [InlineData("{BAD}", "$.defaultAction: unknown action 'SCMP_ACT_NOPE'")]
    public async Task A_bad_seccomp_option_exits_2_and_says_why(string option, string message)
    {
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);
        string bad = dir.Combine("bad.json");
        await File.WriteAllTextAsync(bad, """{ "defaultAction": "SCMP_ACT_NOPE" }""");

        var run = await RootlessCli.RunAsync("run", "--seccomp", option.Replace("{BAD}", bad, StringComparison.Ordinal), "--", "/bin/true");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(message, run.StandardError, StringComparison.Ordinal);
    }
}
