using Sandbox.IntegrationTests.Support;
using Sandbox.Launch;

namespace Sandbox.IntegrationTests;

public sealed class SetupFailureTests
{
    private const int ENOENT = 2, EACCES = 13, ELOOP = 40;

    /// <summary>What is wrong with the sandbox → the stage that fails, its errno and the errno's name.</summary>
    public static TheoryData<string, SetupStage, int, string> Failures => new()
    {
        { "a bind source that does not exist", SetupStage.OpenBindSource, ENOENT, "ENOENT" },
        { "a bind source reached through a symlink", SetupStage.OpenBindSource, ELOOP, "ELOOP" },
        { "a program that does not exist", SetupStage.ExecPayload, ENOENT, "ENOENT" },
        { "a program that is not executable", SetupStage.ExecPayload, EACCES, "EACCES" },
        { "a working directory that does not exist", SetupStage.Chdir, ENOENT, "ENOENT" },
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Failures))]
    public async Task A_setup_failure_names_the_stage_the_errno_the_path_and_a_fix(string failure, SetupStage stage, int errno, string errnoName)
    {
        using var dir = TempDirectory.Create();
        var (spec, path) = Arrange(failure, dir);

        var e = await Assert.ThrowsAsync<SandboxSetupException>(() => spec.RunAsync());

        Assert.Equal(stage, e.Stage);
        Assert.Equal(errno, e.Errno);
        Assert.Equal(errnoName, e.ErrnoName);
        Assert.Equal(path, e.Path);
        Assert.False(string.IsNullOrWhiteSpace(e.Fix));
        Assert.Contains(stage.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains(errnoName, e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failed_start_leaves_nothing_behind()
    {
        string marker = HostProcesses.NewMarker();
        var spec = Probe.Command("fork-sleepers", "1", marker).WithWorkingDirectory("/does-not-exist");

        await Assert.ThrowsAsync<SandboxSetupException>(() => spec.StartAsync());

        Assert.Empty(HostProcesses.WithMarker(marker));
    }

    /// <summary>The spec that fails as <paramref name="failure"/> says, and the path the exception should name.</summary>
    private static (SandboxSpec Spec, string Path) Arrange(string failure, TempDirectory dir)
    {
        switch (failure)
        {
            case "a bind source that does not exist":
                string missing = dir.Combine("missing");
                return (Probe.Command("exit", "0").AddReadOnlyBind(missing, "/data"), missing);
            case "a bind source reached through a symlink":
                Directory.CreateDirectory(dir.Combine("real"));
                string link = dir.Combine("link");
                File.CreateSymbolicLink(link, dir.Combine("real"));
                return (Probe.Command("exit", "0").AddReadOnlyBind(link, "/data"), link);
            case "a program that does not exist":
                return (SandboxSpec.Command("/no/such/program"), "/no/such/program");
            case "a program that is not executable":
                string script = dir.Combine("script.sh");
                File.WriteAllText(script, "#!/bin/sh\nexit 0\n");
                File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                return (SandboxSpec.Command("/script.sh").AddReadOnlyBind(script, "/script.sh"), "/script.sh");
            case "a working directory that does not exist":
                return (Probe.Command("exit", "0").WithWorkingDirectory("/no/such/dir"), "/no/such/dir");
            default:
                throw new ArgumentOutOfRangeException(nameof(failure), failure, "no such case");
        }
    }
}
