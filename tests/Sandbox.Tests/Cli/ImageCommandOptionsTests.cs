using System.CommandLine;
using Sandbox.Cli;
using Sandbox.Images;
using Sandbox.Images.Oci;
using Sandbox.Images.Registry;

namespace Sandbox.Tests.Cli;

/// <summary>The image commands' options: the store's location, references, registry hosts, platforms, and what a bad one says.</summary>
public sealed class ImageCommandOptionsTests
{
    [Fact]
    public void The_store_is_the_option_then_the_environment_then_the_default()
    {
        Assert.Equal("/opt/a", ImageCommandOptions.ResolveStoreRoot("/opt/a", "/opt/b"));
        Assert.Equal("/opt/b", ImageCommandOptions.ResolveStoreRoot(null, "/opt/b"));
        Assert.Equal("/opt/b", ImageCommandOptions.ResolveStoreRoot("  ", "/opt/b"));
        Assert.Equal(Path.GetFullPath(Sandbox.Images.Store.ImageStoreOptions.DefaultRoot()), ImageCommandOptions.ResolveStoreRoot(null, ""));
        Assert.Equal(Path.GetFullPath("relative/store"), ImageCommandOptions.ResolveStoreRoot("relative/store", null));
    }

    [Fact]
    public void Pull_arguments_bind_the_reference_hosts_and_platform()
    {
        Assert.True(PullArguments.TryBind("127.0.0.1:5000/app:1", "/s", ["registry.local:5000", "[::1]:80"], "linux/arm64/v8", null, out var a, out var problems), string.Join('\n', problems));
        Assert.Equal(ImageReference.Parse("127.0.0.1:5000/app:1"), a!.Reference);
        Assert.Equal("/s", a.StoreRoot);
        Assert.Equal(["registry.local:5000", "[::1]:80"], a.InsecureRegistries.ToArray());
        Assert.Equal(new Platform("arm64", "linux", "v8"), a.Platform);
    }

    [Fact]
    public void Every_bad_pull_value_is_reported_at_once()
    {
        Assert.False(PullArguments.TryBind("Not A Ref", null, ["http://registry.local:5000", "host/path"], "arm64", "/s", out _, out var problems));
        Assert.Equal(4, problems.Count);
        Assert.Contains(problems, p => p.Contains("'Not A Ref' is not an image reference", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("--insecure-registry: 'http://registry.local:5000'", StringComparison.Ordinal) && p.Contains("no http://", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("--platform: 'arm64'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a//b")]
    [InlineData("busybox:bad tag")]
    [InlineData("busybox@sha256:123")]
    public void A_bad_reference_says_what_a_reference_looks_like(string text)
    {
        Assert.False(ImageCommandOptions.TryParseReference(text, out _, out string problem));
        Assert.Contains("busybox", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pull")]
    [InlineData("rmi")]
    [InlineData("import")]
    public void A_command_without_its_argument_is_a_parse_error(string command)
    {
        var root = CreateRoot();
        Assert.NotEmpty(root.Parse([command]).Errors);
    }

    [Fact]
    public void The_commands_read_their_options()
    {
        var root = CreateRoot();
        var pull = root.Parse(["pull", "busybox", "--store", "/s", "--insecure-registry", "a:1", "--insecure-registry", "b", "--platform", "linux/arm64"]);
        Assert.Empty(pull.Errors);
        Assert.Equal("/s", pull.GetValue<string?>("--store"));
        Assert.Equal(["a:1", "b"], pull.GetValue<string[]>("--insecure-registry")!);
        var import = root.Parse(["import", "/tmp/x.tar", "--name", "app:1"]);
        Assert.Empty(import.Errors);
        Assert.Equal("app:1", import.GetValue<string?>("--name"));
        Assert.Empty(root.Parse(["images", "--store", "/s"]).Errors);
        Assert.Empty(root.Parse(["rmi", "a", "b:2", "--prune"]).Errors);
    }

    [Fact]
    public void A_progress_line_shows_bytes_so_far_and_then_verified()
    {
        var digest = Digest.Sha256Of([1, 2, 3]);
        Assert.Equal($"{digest.Short}: 1.5 KiB / 3.0 MiB", PullProgressPrinter.FormatLine(new BlobProgress(digest, MediaTypes.OciLayerTarGzip, 1536, 3 << 20, false)));
        Assert.Equal($"{digest.Short}: verified 3.0 MiB", PullProgressPrinter.FormatLine(new BlobProgress(digest, MediaTypes.OciLayerTarGzip, 3 << 20, 3 << 20, true)));
    }

    [Fact]
    public void Plain_progress_is_one_line_when_a_layer_starts_and_one_when_it_is_verified_and_configs_are_not_shown()
    {
        var output = new StringWriter();
        var printer = new PullProgressPrinter(output, terminal: false);
        var layer = Digest.Sha256Of([1]);
        printer.Report(new BlobProgress(Digest.Sha256Of([2]), MediaTypes.OciConfig, 10, 10, true));
        printer.Report(new BlobProgress(layer, MediaTypes.OciLayerTarGzip, 10, 100, false));
        printer.Report(new BlobProgress(layer, MediaTypes.OciLayerTarGzip, 50, 100, false));
        printer.Report(new BlobProgress(layer, MediaTypes.OciLayerTarGzip, 100, 100, true));

        Assert.Equal([$"{layer.Short}: downloading 100 B", $"{layer.Short}: verified"], output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Terminal_progress_redraws_one_line_per_layer_in_place()
    {
        var output = new StringWriter();
        var printer = new PullProgressPrinter(output, terminal: true);
        var first = Digest.Sha256Of([1]);
        var second = Digest.Sha256Of([2]);
        printer.Report(new BlobProgress(first, MediaTypes.OciLayerTarGzip, 10, 100, false));
        printer.Report(new BlobProgress(second, MediaTypes.OciLayerTarGzip, 5, 50, false));
        printer.Report(new BlobProgress(first, MediaTypes.OciLayerTarGzip, 100, 100, true));

        string Line(string text) => $"\r\u001b[2K{text}\n";
        Assert.Equal(
            Line($"{first.Short}: 10 B / 100 B")
            + "\u001b[1A" + Line($"{first.Short}: 10 B / 100 B") + Line($"{second.Short}: 5 B / 50 B")
            + "\u001b[2A" + Line($"{first.Short}: verified 100 B") + Line($"{second.Short}: 5 B / 50 B"),
            output.ToString());
    }

    private static RootCommand CreateRoot()
    {
        var root = new RootCommand();
        root.Subcommands.Add(PullCommand.Create());
        root.Subcommands.Add(ImagesCommand.Create());
        root.Subcommands.Add(RmiCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        return root;
    }
}
