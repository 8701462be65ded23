using System.Globalization;
using System.Text.Json;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

/// <summary>
/// <c>sandbox run --output-limit</c>: the CLI passes the program's output through, counting each stream, kills the
/// sandbox once one passes the cap after writing exactly the cap, and still gives the program its stdin.
/// </summary>
public sealed class CliOutputLimitTests
{
    private const int Cap = 1 << 20;

    [Fact(Timeout = 60_000)]
    public async Task A_flood_past_the_cap_is_cut_at_exactly_the_cap_and_the_sandbox_killed_with_exit_137()
    {
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);
        string json = dir.Combine("result.json");

        var run = await RootlessCli.RunProbeAsync(["--output-limit", "1m", "--result-json", json], "spew", (64 << 20).ToString(CultureInfo.InvariantCulture));

        Assert.True(run.ExitCode == 137, run.ToString()[..Math.Min(300, run.ToString().Length)]);
        Assert.Equal(Cap, run.StandardOutput.Length);
        Assert.All(run.StandardOutput, c => Assert.Equal('x', c));
        Assert.Contains("output limit of 1048576 bytes exceeded on stdout; the sandbox was killed", run.StandardError, StringComparison.Ordinal);
        using var result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var root = result.RootElement;
        Assert.Equal("outputLimitExceeded", root.GetProperty("outcome").GetString());
        Assert.Equal(9, root.GetProperty("signal").GetInt32());
        Assert.Equal(Cap, root.GetProperty("stdoutForwardedBytes").GetInt64());
        Assert.InRange(root.GetProperty("stdoutBytes").GetInt64(), Cap + 1, 64L << 20);
        Assert.True(root.GetProperty("stdoutTruncated").GetBoolean());
        Assert.Equal(0, root.GetProperty("stderrForwardedBytes").GetInt64());
        Assert.False(root.GetProperty("stderrTruncated").GetBoolean());
    }

    [Fact(Timeout = 60_000)]
    public async Task Each_stream_has_its_own_cap_so_a_flood_on_stderr_is_cut_there()
    {
        var run = await RootlessCli.RunAsync("run", "--output-limit", "4k", "--", "/bin/sh", "-c", "echo out; yes err >&2");

        Assert.True(run.ExitCode == 137, run.ToString()[..Math.Min(300, run.ToString().Length)]);
        Assert.Equal("out\n", run.StandardOutput);
        string forwarded = run.StandardError[..4096];
        Assert.Equal(string.Concat(Enumerable.Repeat("err\n", 1024)), forwarded);
        Assert.Equal("sandbox: output limit of 4096 bytes exceeded on stderr; the sandbox was killed.\n", run.StandardError[4096..]);
    }

    [Fact(Timeout = 60_000)]
    public async Task Output_up_to_the_cap_passes_through_whole_and_the_exit_status_is_the_programs()
    {
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);
        string json = dir.Combine("result.json");

        var run = await RootlessCli.RunAsync("run", "--output-limit", "1m", "--result-json", json, "--", "/bin/sh", "-c", "printf out; printf err >&2; exit 3");

        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Equal("out", run.StandardOutput);
        Assert.Equal("err", run.StandardError);
        using var result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.Equal("nonZeroExit", result.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(3, result.RootElement.GetProperty("stdoutBytes").GetInt64());
        Assert.Equal(3, result.RootElement.GetProperty("stdoutForwardedBytes").GetInt64());
        Assert.Equal(3, result.RootElement.GetProperty("stderrForwardedBytes").GetInt64());
    }

    [Fact(Timeout = 60_000)]
    public async Task Standard_input_still_reaches_the_program_when_the_CLI_counts_its_output()
    {
        var run = await RootlessCli.RunAsRootAsync("first\nsecond\n",
            "run", "--output-limit", "1m", "--ro-bind", $"{TestBinaries.ProbePath}:{Probe.InsidePath}", "--", Probe.InsidePath, "echo");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["echo: first", "echo: second"], ProbeOutput.Lines(run.StandardOutput));
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_an_output_limit_the_program_has_the_terminals_streams_and_the_result_does_not_guess_their_sizes()
    {
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);
        string json = dir.Combine("result.json");

        var run = await RootlessCli.RunProbeAsync(["--result-json", json], "spew", "100");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(new string('x', 100), run.StandardOutput);
        using var result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.Equal(JsonValueKind.Null, result.RootElement.GetProperty("stdoutBytes").ValueKind);
        Assert.Equal(JsonValueKind.Null, result.RootElement.GetProperty("stdoutForwardedBytes").ValueKind);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("0")]
    [InlineData("lots")]
    public async Task A_bad_output_limit_is_a_usage_error(string limit)
    {
        var run = await RootlessCli.RunProbeAsync(["--output-limit", limit], "exit", "0");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains($"--output-limit '{limit}' is not a size", run.StandardError, StringComparison.Ordinal);
    }
}
