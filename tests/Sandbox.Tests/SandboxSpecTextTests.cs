namespace Sandbox.Tests;

public class SandboxSpecTextTests
{
    // Attribute arguments are stored as UTF-8, which cannot hold an unpaired surrogate: build the text here.
    [Theory]
    [InlineData("arg", 0xD800, "")]
    [InlineData("", 0xDC00, "tail")]
    [InlineData("a", 0xDBFF, "b")]
    public void An_unpaired_surrogate_anywhere_in_the_command_is_reported(string before, int surrogate, string after)
    {
        string text = before + (char)surrogate + after;

        var problems = SandboxSpec.Command("/bin/echo", "ok", text).Validate(hostIsRoot: true);

        Assert.Contains(problems, p => p.Contains("unpaired UTF-16 surrogate", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unpaired_surrogate_in_an_environment_value_is_reported()
    {
        var problems = SandboxSpec.Command("/bin/true").WithEnvironmentVariable("X", "\uD83D").Validate(hostIsRoot: true);

        Assert.Single(problems, p => p.Contains("unpaired UTF-16 surrogate", StringComparison.Ordinal));
    }

    [Fact]
    public void Paired_surrogates_are_well_formed_text()
    {
        var problems = SandboxSpec.Command("/bin/echo", "\uD83D\uDE00").AddTmpfs("/data/\uD83D\uDE00").Validate(hostIsRoot: true);

        Assert.Empty(problems);
    }
}
