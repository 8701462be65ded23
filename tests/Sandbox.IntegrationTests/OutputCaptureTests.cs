using System.Globalization;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class OutputCaptureTests
{
    /// <summary>bytes written, output limit → bytes kept, truncated.</summary>
    public static TheoryData<int, long, int, bool> Captures => new()
    {
        { 0, 1024, 0, false },
        { 1000, 1024, 1000, false },
        { 1024, 1024, 1024, false },
        { 1025, 1024, 1024, true },
        { 1 << 20, 4096, 4096, true },
        { 10, 0, 0, true },
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Captures))]
    public async Task Output_beyond_the_limit_is_counted_but_not_kept(int written, long limit, int kept, bool truncated)
    {
        var result = (await Probe.Command("spew", written.ToString(CultureInfo.InvariantCulture))
            .WithOutputLimit(limit)
            .RunAsync()).EnsureSuccess();

        Assert.Equal(kept, result.StandardOutput.Bytes.Length);
        Assert.Equal(written, result.StandardOutput.TotalBytes);
        Assert.Equal(truncated, result.StandardOutput.Truncated);
        Assert.All(result.StandardOutput.Text, c => Assert.Equal('x', c));
    }

    [Fact(Timeout = 60_000)]
    public async Task Standard_output_and_standard_error_are_captured_apart()
    {
        var result = (await SandboxSpec.Command("/bin/sh", "-c", "echo to-out; echo to-err >&2").RunAsync()).EnsureSuccess();

        Assert.Equal("to-out\n", result.StandardOutput.Text);
        Assert.Equal("to-err\n", result.StandardError.Text);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_standard_input_of_the_spec_reaches_the_program()
    {
        var result = (await Probe.Command("echo").WithStandardInput("first\nsecond\n").RunAsync()).EnsureSuccess();

        Assert.Equal(["echo: first", "echo: second"], result.StandardOutput.Lines());
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_standard_input_the_program_reads_end_of_file()
    {
        var result = (await Probe.Command("echo").RunAsync()).EnsureSuccess();

        Assert.Equal(0, result.StandardOutput.TotalBytes);
    }
}
