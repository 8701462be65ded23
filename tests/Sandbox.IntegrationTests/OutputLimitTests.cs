using System.Globalization;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class OutputLimitTests
{
    [Fact(Timeout = 60_000)]
    public async Task An_output_flood_past_a_killing_limit_is_OutputLimitExceeded_with_exactly_the_cap_kept()
    {
        const int cap = 1 << 20;

        var result = await Probe.Command("spew", (64 << 20).ToString(CultureInfo.InvariantCulture))
            .WithOutputLimit(cap, killWhenExceeded: true)
            .RunAsync();

        Assert.Equal(SandboxOutcome.OutputLimitExceeded, result.Outcome);
        Assert.Equal(cap, result.StandardOutput.Bytes.Length);
        Assert.True(result.StandardOutput.Truncated);
        Assert.InRange(result.StandardOutput.TotalBytes, cap + 1, 64L << 20);
        Assert.All(result.StandardOutput.Text, c => Assert.Equal('x', c));
    }

    [Fact(Timeout = 60_000)]
    public async Task Output_up_to_a_killing_limit_is_not_a_violation()
    {
        const int cap = 4096;

        var result = await Probe.Command("spew", cap.ToString(CultureInfo.InvariantCulture))
            .WithOutputLimit(cap, killWhenExceeded: true)
            .RunAsync();

        Assert.Equal(SandboxOutcome.Ok, result.Outcome);
        Assert.Equal(cap, result.StandardOutput.Bytes.Length);
        Assert.False(result.StandardOutput.Truncated);
    }

    [Fact(Timeout = 60_000)]
    public async Task Forwarded_output_past_a_killing_limit_writes_exactly_the_cap_to_the_target()
    {
        const int cap = 1 << 20;
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();

        var result = await Probe.Command("spew", (64 << 20).ToString(CultureInfo.InvariantCulture))
            .WithOutputForwarding(stdout, stderr)
            .WithOutputLimit(cap, killWhenExceeded: true)
            .RunAsync();

        Assert.Equal(SandboxOutcome.OutputLimitExceeded, result.Outcome);
        Assert.Equal(9, result.Signal);
        Assert.Equal(cap, stdout.Length);
        Assert.All(stdout.ToArray(), b => Assert.Equal((byte)'x', b));
        Assert.Equal(cap, result.StandardOutput.ForwardedBytes);
        Assert.True(result.StandardOutput.Bytes.IsEmpty);
        Assert.InRange(result.StandardOutput.TotalBytes, cap + 1, 64L << 20);
        Assert.Equal(0, result.StandardError.ForwardedBytes);
        Assert.Equal(0, stderr.Length);
    }

    [Fact(Timeout = 60_000)]
    public async Task Forwarded_output_within_the_limit_arrives_whole_and_the_program_ends_on_its_own()
    {
        var stdout = new MemoryStream();

        var result = await Probe.Command("spew", "4096")
            .WithOutputForwarding(stdout, Stream.Null)
            .WithOutputLimit(4096, killWhenExceeded: true)
            .RunAsync();

        Assert.Equal(SandboxOutcome.Ok, result.Outcome);
        Assert.Equal(4096, stdout.Length);
        Assert.Equal(4096, result.StandardOutput.ForwardedBytes);
        Assert.False(result.StandardOutput.Truncated);
    }

    [Fact(Timeout = 60_000)]
    public async Task Both_streams_forwarded_to_one_target_arrive_whole_and_each_counts_against_its_own_limit()
    {
        var both = new MemoryStream();

        var result = await SandboxSpec.Command("/bin/sh", "-c", "for i in $(seq 1 200); do echo out$i; echo err$i >&2; done")
            .WithOutputForwarding(both, both)
            .RunAsync();

        Assert.Equal(SandboxOutcome.Ok, result.Outcome);
        var lines = System.Text.Encoding.ASCII.GetString(both.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Enumerable.Range(1, 200).Select(i => $"out{i}"), lines.Where(l => l.StartsWith("out", StringComparison.Ordinal)));
        Assert.Equal(Enumerable.Range(1, 200).Select(i => $"err{i}"), lines.Where(l => l.StartsWith("err", StringComparison.Ordinal)));
        Assert.Equal(result.StandardOutput.ForwardedBytes + result.StandardError.ForwardedBytes, both.Length);
    }
}
