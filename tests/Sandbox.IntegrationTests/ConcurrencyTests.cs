using System.Globalization;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class ConcurrencyTests
{
    [Fact(Timeout = 60_000)]
    public async Task Fifty_sandboxes_run_in_parallel_each_with_its_own_hostname()
    {
        const int count = 50;

        var results = await Task.WhenAll(Enumerable.Range(0, count).Select(i =>
            Probe.Command("hostname").WithHostname($"run-{i}").RunAsync()));

        Assert.All(results, r => Assert.Equal(SandboxOutcome.Ok, r.Outcome));
        Assert.Equal(
            Enumerable.Range(0, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"run-{i}")),
            results.Select(r => r.StandardOutput.Values()["hostname"]));
    }
}
