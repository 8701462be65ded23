using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests.Images;

/// <summary>The image commands end to end: pull from a real registry, images, import, rmi, and bad input.</summary>
public sealed class ImageCliTests
{
    [Fact(Timeout = 240_000)]
    public async Task Pull_images_import_and_rmi_work_on_one_store()
    {
        using var registry = await LocalRegistry.StartAsync();
        registry.Push(BusyboxLayout.Layout, BusyboxLayout.Tag, "test/busybox");
        using var temp = TempDirectory.Create();
        string store = temp.Combine("store");
        string reference = $"{registry.Host}/test/busybox:{BusyboxLayout.Tag}";

        var pull = await RootlessCli.RunAsRootAsync(null, "pull", reference, "--store", store);
        Assert.True(pull.ExitCode == 0, pull.ToString());
        Assert.Equal(3, pull.StandardOutput.Split('\n').Count(l => l.EndsWith(": verified", StringComparison.Ordinal)));
        Assert.Contains($"Pulled {reference}: manifest sha256:", pull.StandardOutput, StringComparison.Ordinal);

        var import = await RootlessCli.RunAsRootAsync(null, "import", BusyboxLayout.Layout, "--name", "local/busybox:" + BusyboxLayout.Tag, "--store", store);
        Assert.True(import.ExitCode == 0, import.ToString());

        var images = await RootlessCli.RunAsRootAsync(null, "images", "--store", store);
        Assert.True(images.ExitCode == 0, images.ToString());
        var lines = images.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("REFERENCE", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith(reference + " ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("local/busybox:" + BusyboxLayout.Tag + " ", StringComparison.Ordinal));

        var rmi = await RootlessCli.RunAsRootAsync(null, "rmi", reference, "local/busybox:" + BusyboxLayout.Tag, "--store", store, "--prune");
        Assert.True(rmi.ExitCode == 0, rmi.ToString());
        Assert.Contains("Pruned 3 layer(s)", rmi.StandardOutput, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(store, "layers", "sha256")));

        var again = await RootlessCli.RunAsRootAsync(null, "rmi", reference, "--store", store);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("there is no image", again.StandardError, StringComparison.Ordinal);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("pull", "Not A Ref")]
    [InlineData("pull", "busybox", "--insecure-registry", "http://x")]
    [InlineData("pull", "busybox", "--platform", "amd64")]
    [InlineData("import", "/no/such/image.tar")]
    [InlineData("rmi", "Bad Ref")]
    public async Task Bad_input_is_a_clear_message_and_exit_code_2(params string[] arguments)
    {
        using var temp = TempDirectory.Create();

        var run = await RootlessCli.RunAsRootAsync(null, [.. arguments, "--store", temp.Combine("store")]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.StartsWith($"sandbox {arguments[0]}: ", run.StandardError, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_pull_from_a_registry_that_is_not_there_fails_with_the_url_and_a_fix()
    {
        using var temp = TempDirectory.Create();
        int port = LocalRegistry.FreePort();

        var run = await RootlessCli.RunAsRootAsync(null, "pull", $"127.0.0.1:{port}/test/none:1", "--store", temp.Combine("store"));

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains($"http://127.0.0.1:{port}/v2/test/none/manifests/1", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("Fix:", run.StandardError, StringComparison.Ordinal);
    }
}
