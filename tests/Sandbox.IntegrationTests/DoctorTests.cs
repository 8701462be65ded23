using System.Text.Json;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

/// <summary>
/// <c>sandbox doctor</c> on this machine (hybrid: v1 controllers, an empty cgroup2 at /sys/fs/cgroup/unified), as root
/// and as nobody: what it says about cgroups is what the runner then does.
/// </summary>
public sealed class DoctorTests
{
    [Fact(Timeout = 60_000)]
    public async Task As_root_the_doctor_finds_the_hybrid_layout_and_writable_v1_hierarchies_and_limits_then_work()
    {
        var run = await RootlessCli.RunAsRootAsync(null, "doctor", "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        var checks = Checks(run.StandardOutput);
        Assert.Equal("ok", checks["cgroups"].Status);
        Assert.StartsWith("Hybrid: v1 controllers ", checks["cgroups"].Finding, StringComparison.Ordinal);
        Assert.Contains("CPU sets (cpuset) and I/O limits (blkio) available", checks["cgroups"].Finding, StringComparison.Ordinal);
        Assert.Equal("ok", checks["cgroup delegation"].Status);
        Assert.Contains("in each v1 hierarchy under this process's own cgroup", checks["cgroup delegation"].Finding, StringComparison.Ordinal);

        var result = await Probe.Command("exit", "0").WithMemoryLimit(64 << 20).WithCpuSet("0").RunAsync();
        Assert.Equal(SandboxOutcome.Ok, result.Outcome);
    }

    [Fact(Timeout = 60_000)]
    public async Task As_nobody_the_doctor_says_cgroup_v1_delegates_nothing_and_names_the_rlimit_fallback()
    {
        var run = await RootlessCli.RunAsync("doctor", "--json");

        Assert.True(run.ExitCode == 0, run.ToString()); // sandboxes still run; limits need the fallback
        var delegation = Checks(run.StandardOutput)["cgroup delegation"];
        Assert.Equal("missing", delegation.Status);
        Assert.Contains("Rootless sandboxes cannot use cgroup v1", delegation.Finding, StringComparison.Ordinal);
        Assert.Contains("(not writable)", delegation.Finding, StringComparison.Ordinal);
        Assert.Contains("--rlimit-fallback", delegation.Fix, StringComparison.Ordinal);
        Assert.Contains("delegated cgroup v2 subtree", delegation.Fix, StringComparison.Ordinal);
    }

    private sealed record Check(string Status, string Finding, string? Fix);

    private static Dictionary<string, Check> Checks(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(
            c => c.GetProperty("name").GetString()!,
            c => new Check(c.GetProperty("status").GetString()!, c.GetProperty("finding").GetString()!,
                c.GetProperty("fix").ValueKind == JsonValueKind.Null ? null : c.GetProperty("fix").GetString()));
    }
}
