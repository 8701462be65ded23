using Sandbox.IntegrationTests.Support;
using Sandbox.Launch;

namespace Sandbox.IntegrationTests;

/// <summary>
/// How the sandbox's init finds and executes the program, as execvp(3) does: a name with a '/' is a path,
/// any other name is looked up in the sandbox's PATH; a file without a "#!" line runs as a shell script;
/// a failure is reported as the ExecPayload stage with the errno of the attempt that tells most.
/// </summary>
public sealed class ProgramLookupTests
{
    private const int ENOENT = 2, EACCES = 13;

    /// <summary>Two directories bound at /opt/first and /opt/second, and the spec that runs <paramref name="program"/> with PATH over them.</summary>
    private static SandboxSpec OverTwoDirectories(TempDirectory dir, string program, params string[] arguments)
    {
        Directory.CreateDirectory(dir.Combine("first"));
        Directory.CreateDirectory(dir.Combine("second"));
        return SandboxSpec.Command(program, arguments)
            .AddReadOnlyBind(dir.Combine("first"), "/opt/first")
            .AddReadOnlyBind(dir.Combine("second"), "/opt/second")
            .WithEnvironmentVariable("PATH", "/opt/first:/opt/second");
    }

    private static void WriteScript(string path, string text, bool executable)
    {
        File.WriteAllText(path, text);
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        if (executable) mode |= UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(path, mode);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_name_is_found_on_the_default_PATH()
    {
        var result = await SandboxSpec.Command("sh", "-c", "echo found; exit 5").RunAsync();

        Assert.Equal("found\n", result.StandardOutput.Text);
        Assert.Equal(5, result.ExitCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_name_runs_from_the_first_PATH_directory_that_holds_it()
    {
        using var dir = TempDirectory.Create();
        var spec = OverTwoDirectories(dir, "tool", "argument");
        WriteScript(dir.Combine("second/tool"), "#!/bin/sh\necho second \"$0\" \"$1\"\n", executable: true);

        var result = (await spec.RunAsync()).EnsureSuccess();

        Assert.Equal("second /opt/second/tool argument\n", result.StandardOutput.Text);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_file_that_is_not_executable_is_passed_over_for_a_later_one_that_is()
    {
        using var dir = TempDirectory.Create();
        var spec = OverTwoDirectories(dir, "tool");
        WriteScript(dir.Combine("first/tool"), "#!/bin/sh\necho first\n", executable: false);
        WriteScript(dir.Combine("second/tool"), "#!/bin/sh\necho second\n", executable: true);

        var result = (await spec.RunAsync()).EnsureSuccess();

        Assert.Equal("second\n", result.StandardOutput.Text);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_name_found_only_as_a_file_that_is_not_executable_fails_with_EACCES_rather_than_ENOENT()
    {
        using var dir = TempDirectory.Create();
        var spec = OverTwoDirectories(dir, "tool");
        WriteScript(dir.Combine("first/tool"), "#!/bin/sh\necho first\n", executable: false);

        var e = await Assert.ThrowsAsync<SandboxSetupException>(() => spec.RunAsync());

        Assert.Equal(SetupStage.ExecPayload, e.Stage);
        Assert.Equal(EACCES, e.Errno);
        Assert.Equal("tool", e.Path);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_name_on_no_PATH_directory_fails_with_ENOENT_naming_it()
    {
        using var dir = TempDirectory.Create();
        var spec = OverTwoDirectories(dir, "no-such-tool");

        var e = await Assert.ThrowsAsync<SandboxSetupException>(() => spec.RunAsync());

        Assert.Equal(SetupStage.ExecPayload, e.Stage);
        Assert.Equal(ENOENT, e.Errno);
        Assert.Equal("no-such-tool", e.Path);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_name_with_a_slash_is_a_path_and_never_looked_up()
    {
        using var dir = TempDirectory.Create();
        // Looked up in PATH (/opt), "second/tool" would be /opt/second/tool; as a path it is /second/tool.
        var spec = OverTwoDirectories(dir, "second/tool").WithEnvironmentVariable("PATH", "/opt").WithWorkingDirectory("/");
        WriteScript(dir.Combine("second/tool"), "#!/bin/sh\necho second\n", executable: true);

        var e = await Assert.ThrowsAsync<SandboxSetupException>(() => spec.RunAsync());

        Assert.Equal(SetupStage.ExecPayload, e.Stage);
        Assert.Equal(ENOENT, e.Errno);
        Assert.Equal("second/tool", e.Path);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_empty_PATH_entry_is_the_working_directory()
    {
        using var dir = TempDirectory.Create();
        var spec = OverTwoDirectories(dir, "tool").WithEnvironmentVariable("PATH", "/opt/first:").WithWorkingDirectory("/opt/second");
        WriteScript(dir.Combine("second/tool"), "#!/bin/sh\necho from the working directory\n", executable: true);

        var result = (await spec.RunAsync()).EnsureSuccess();

        Assert.Equal("from the working directory\n", result.StandardOutput.Text);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_executable_file_without_a_shebang_line_runs_as_a_shell_script_with_its_arguments()
    {
        using var dir = TempDirectory.Create();
        WriteScript(dir.Combine("plain"), "echo plain \"$0\" \"$@\"\nexit 4\n", executable: true);
        var spec = SandboxSpec.Command("/opt/plain", "one", "two").AddReadOnlyBind(dir.Combine("plain"), "/opt/plain");

        var result = await spec.RunAsync();

        Assert.Equal("plain /opt/plain one two\n", result.StandardOutput.Text);
        Assert.Equal(4, result.ExitCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_directory_as_the_program_fails_with_EACCES()
    {
        var e = await Assert.ThrowsAsync<SandboxSetupException>(() => SandboxSpec.Command("/usr").RunAsync());

        Assert.Equal(SetupStage.ExecPayload, e.Stage);
        Assert.Equal(EACCES, e.Errno);
        Assert.Equal("/usr", e.Path);
    }
}
