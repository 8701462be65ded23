using System.Text.RegularExpressions;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests.Images;

/// <summary><c>sandbox push</c> end to end against a real registry: the pushed digest, skipped blobs, credentials from options and from the environment, bad input.</summary>
public sealed class ImagePushCliTests
{
    [Fact(Timeout = 240_000)]
    public async Task Push_prints_the_digest_the_import_had_and_a_second_push_finds_every_blob_there()
    {
        using var registry = await LocalRegistry.StartAsync();
        using var temp = TempDirectory.Create();
        string store = temp.Combine("store");
        var import = await RootlessCli.RunAsRootAsync(null, "import", BusyboxLayout.Layout, "--name", "local/busybox:" + BusyboxLayout.Tag, "--store", store);
        Assert.True(import.ExitCode == 0, import.ToString());
        string digest = Regex.Match(import.StandardOutput, "manifest (sha256:[0-9a-f]{64})").Groups[1].Value;
        string destination = $"{registry.Host}/test/cli:{BusyboxLayout.Tag}";

        var push = await RootlessCli.RunAsRootAsync(null, "push", "local/busybox:" + BusyboxLayout.Tag, destination, "--store", store);
        var again = await RootlessCli.RunAsRootAsync(null, "push", "local/busybox:" + BusyboxLayout.Tag, destination, "--store", store);
        var pull = await RootlessCli.RunAsRootAsync(null, "pull", destination, "--store", temp.Combine("clean"));

        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Equal(3, push.StandardOutput.Split('\n').Count(l => l.EndsWith(": pushed", StringComparison.Ordinal))); // the layers; the config is not shown
        Assert.Contains($"Pushed {destination}: manifest {digest}, 4 blob(s): 4 uploaded", push.StandardOutput, StringComparison.Ordinal);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(4, again.StandardOutput.Split('\n').Count(l => l.EndsWith(": already there", StringComparison.Ordinal)));
        Assert.Contains($"manifest {digest}, 4 blob(s): 0 uploaded (0 B), 0 mounted, 4 already there", again.StandardOutput, StringComparison.Ordinal);
        Assert.True(pull.ExitCode == 0, pull.ToString());
        Assert.Contains($"Pulled {destination}: manifest {digest}", pull.StandardOutput, StringComparison.Ordinal);
    }

    [Fact(Timeout = 240_000)]
    public async Task Credentials_come_from_password_stdin_or_the_environment_and_wrong_ones_are_a_clear_error()
    {
        using var temp = TempDirectory.Create();
        using var tokens = new TokenServer(temp.Path);
        using var registry = await LocalRegistry.StartAsync(tokens.RegistryAuthSection);
        string store = temp.Combine("store");
        var import = await RootlessCli.RunAsRootAsync(null, "import", BusyboxLayout.Layout, "--name", "local/busybox:" + BusyboxLayout.Tag, "--store", store);
        Assert.True(import.ExitCode == 0, import.ToString());
        string destination = $"{registry.Host}/test/secure:1";

        var anonymous = await RootlessCli.RunAsRootAsync(null, "push", "local/busybox:" + BusyboxLayout.Tag, destination, "--store", store);
        var wrong = await RootlessCli.RunAsRootAsync("nope\n", "push", "local/busybox:" + BusyboxLayout.Tag, destination, "--store", store, "--username", TokenServer.User, "--password-stdin");
        var withStdin = await RootlessCli.RunAsRootAsync(TokenServer.Password + "\n", "push", "local/busybox:" + BusyboxLayout.Tag, destination, "--store", store,
            "--username", TokenServer.User, "--password-stdin");
        var environment = new Dictionary<string, string> { ["SANDBOX_REGISTRY_USERNAME"] = TokenServer.User, ["SANDBOX_REGISTRY_PASSWORD"] = TokenServer.Password };
        var pulled = await RootlessCli.RunAsRootWithEnvironmentAsync(environment, null, "pull", destination, "--store", temp.Combine("clean"));
        var optionsWin = await RootlessCli.RunAsRootWithEnvironmentAsync(environment, "nope\n", "pull", destination, "--store", temp.Combine("other"),
            "--username", TokenServer.User, "--password-stdin");

        Assert.True(anonymous.ExitCode == 1, anonymous.ToString());
        Assert.Contains("refused an anonymous token", anonymous.StandardError, StringComparison.Ordinal);
        Assert.True(wrong.ExitCode == 1, wrong.ToString());
        Assert.Contains($"refused the credentials of '{TokenServer.User}'", wrong.StandardError, StringComparison.Ordinal);
        Assert.Contains("Fix: Check the user name and password", wrong.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store, "tmp")));
        Assert.True(withStdin.ExitCode == 0, withStdin.ToString());
        Assert.Contains($"Pushed {destination}: manifest sha256:", withStdin.StandardOutput, StringComparison.Ordinal);
        Assert.True(pulled.ExitCode == 0, pulled.ToString());
        Assert.True(optionsWin.ExitCode == 1, optionsWin.ToString());
    }

    [Theory(Timeout = 60_000)]
    [InlineData("push", "app:1", "Bad Dest")]
    [InlineData("push", "app:1", "--username", "me")]
    [InlineData("push", "app:1", "--password-stdin")]
    [InlineData("pull", "app:1", "--username", "me")]
    public async Task Bad_push_input_is_a_clear_message_and_exit_code_2(params string[] arguments)
    {
        using var temp = TempDirectory.Create();

        var run = await RootlessCli.RunAsRootAsync(null, [.. arguments, "--store", temp.Combine("store")]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.StartsWith($"sandbox {arguments[0]}: ", run.StandardError, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Pushing_an_image_the_store_does_not_have_says_to_pull_or_import_it()
    {
        using var temp = TempDirectory.Create();

        var run = await RootlessCli.RunAsRootAsync(null, "push", "127.0.0.1:5000/none:1", "--store", temp.Combine("store"));

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("the image is not in the store", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("Fix: Pull, import or commit it first", run.StandardError, StringComparison.Ordinal);
    }
}
