using Sandbox.Cli;
using Sandbox.Images;
using Sandbox.Images.Oci;
using Sandbox.Images.Registry;

namespace Sandbox.Tests.Cli;

/// <summary>Registry credentials for pull and push (options, then environment, then anonymous), and push's arguments and progress lines.</summary>
public sealed class RegistryLoginOptionsTests
{
    private static Func<string?> Stdin(string text) => () => text;

    private static readonly Func<string?> NoStdin = () => throw new InvalidOperationException("standard input must not be read");

    [Fact]
    public void The_username_option_with_the_password_on_standard_input_wins_over_the_environment()
    {
        Assert.True(RegistryLoginOptions.TryResolve("alice", true, Stdin("s3cret\n"), "bob", "other", out var credentials, out string problem), problem);
        Assert.Equal(new RegistryCredentials("alice", "s3cret"), credentials);
    }

    [Fact]
    public void Without_options_the_environment_gives_the_credentials_and_without_either_the_registry_is_used_anonymously()
    {
        Assert.True(RegistryLoginOptions.TryResolve(null, false, NoStdin, "bob", "pw", out var fromEnvironment, out _));
        Assert.Equal(new RegistryCredentials("bob", "pw"), fromEnvironment);
        Assert.True(RegistryLoginOptions.TryResolve(null, false, NoStdin, null, "", out var anonymous, out _));
        Assert.Null(anonymous);
    }

    [Theory]
    [InlineData("alice", false, null, null, "--username needs --password-stdin")]
    [InlineData(null, true, null, null, "--password-stdin needs --username")]
    [InlineData(null, false, "bob", null, "$SANDBOX_REGISTRY_USERNAME is set but $SANDBOX_REGISTRY_PASSWORD is not")]
    [InlineData(null, false, null, "pw", "$SANDBOX_REGISTRY_PASSWORD is set but $SANDBOX_REGISTRY_USERNAME is not")]
    public void Half_given_credentials_are_a_problem_that_says_what_is_missing(string? username, bool passwordStdin, string? environmentUser, string? environmentPassword, string expected)
    {
        Assert.False(RegistryLoginOptions.TryResolve(username, passwordStdin, Stdin("pw"), environmentUser, environmentPassword, out var credentials, out string problem));
        Assert.Null(credentials);
        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_password_on_standard_input_is_a_problem()
    {
        Assert.False(RegistryLoginOptions.TryResolve("alice", true, Stdin("\n"), null, null, out _, out string problem));
        Assert.Contains("empty password", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Push_arguments_default_the_destination_to_the_source_and_report_every_bad_value_at_once()
    {
        Assert.True(PushArguments.TryBind("127.0.0.1:5000/app:1", null, "/s", [], null, out var same, out _));
        Assert.Equal(same!.Source, same.Destination);
        Assert.True(PushArguments.TryBind("app:1", "registry.local:5000/team/app:2", null, ["registry.local:5000"], "/env", out var other, out _));
        Assert.Equal(ImageReference.Parse("registry.local:5000/team/app:2"), other!.Destination);
        Assert.Equal("/env", other.StoreRoot);

        Assert.False(PushArguments.TryBind("Bad Ref", "Bad Dest", null, ["http://x"], null, out _, out var problems));
        Assert.Equal(3, problems.Count);
        Assert.StartsWith("DEST: 'Bad Dest'", problems[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Push_progress_says_pushing_and_pushed()
    {
        var output = new StringWriter();
        var printer = new PullProgressPrinter(output, terminal: false, activity: "pushing", finished: "pushed");
        var layer = Digest.Sha256Of([1]);
        printer.Report(new BlobProgress(layer, MediaTypes.OciLayerTarGzip, 10, 100, false));
        printer.Report(new BlobProgress(layer, MediaTypes.OciLayerTarGzip, 100, 100, true));

        Assert.Equal([$"{layer.Short}: pushing 100 B", $"{layer.Short}: pushed"], output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"{layer.Short}: pushed 100 B", PullProgressPrinter.FormatLine(new BlobProgress(layer, MediaTypes.OciLayerTarGzip, 100, 100, true), "pushed"));
    }
}
