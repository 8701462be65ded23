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
}
