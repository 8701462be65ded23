using System.Text.Json;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests.Limits;

/// <summary><c>sandbox run --result-json</c> as root with cgroup limits: the accounting fields, peak pids included, and how the sandbox joined its cgroup.</summary>
[Collection(LimitsCollection.Name)]
public sealed class CliResultJsonTests
{
    [Fact(Timeout = 60_000)]
    public async Task With_a_cgroup_peak_pids_is_the_most_tasks_at_once_and_without_one_it_is_null()
    {
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);
        string limited = dir.Combine("limited.json"), bare = dir.Combine("bare.json");

        // sandbox-init, the probe and its four threads: six tasks, until the wall-time limit kills them.
        var withCgroup = await RootlessCli.RunProbeAsRootAsync(["--pids", "16", "--wall-time", "500ms", "--result-json", limited], "spin-threads", "4");
        var withoutCgroup = await RootlessCli.RunProbeAsRootAsync(["--no-cgroup", "--result-json", bare], "exit", "0");

        Assert.True(withCgroup.ExitCode == 137, withCgroup.ToString());
        Assert.True(withoutCgroup.ExitCode == 0, withoutCgroup.ToString());
        using (var result = JsonDocument.Parse(await File.ReadAllTextAsync(limited)))
        {
            var root = result.RootElement;
            Assert.Equal("timedOut", root.GetProperty("outcome").GetString());
            Assert.InRange(root.GetProperty("peakPids").GetInt64(), 6, 16);
            Assert.Equal("cgroup", root.GetProperty("cpuTimeSource").GetString());
            Assert.Equal(SandboxCgroupDirectories.HostUsesCgroupV1 ? "cgroupV1MaxUsage" : "cgroupV2MemoryPeak", root.GetProperty("memorySource").GetString());
            var isolation = root.GetProperty("isolation");
            Assert.Equal(SandboxCgroupDirectories.HostUsesCgroupV1 ? "cgroupProcs" : "cloneIntoCgroup", isolation.GetProperty("cgroupJoin").GetString());
            Assert.Equal(JsonValueKind.Null, isolation.GetProperty("cgroupJoinFallback").ValueKind);
        }
        using (var result = JsonDocument.Parse(await File.ReadAllTextAsync(bare)))
        {
            Assert.Equal(JsonValueKind.Null, result.RootElement.GetProperty("peakPids").ValueKind);
            Assert.Equal("rusage", result.RootElement.GetProperty("cpuTimeSource").GetString());
            Assert.Equal(JsonValueKind.Null, result.RootElement.GetProperty("isolation").GetProperty("cgroupJoin").ValueKind);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task By_default_a_CLI_run_has_its_own_cgroup_and_opting_out_of_it_with_a_limit_is_refused()
    {
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);
        string json = dir.Combine("default.json");

        var byDefault = await RootlessCli.RunProbeAsRootAsync(["--result-json", json], "exit", "0");
        var refused = await RootlessCli.RunProbeAsRootAsync(["--no-cgroup", "--memory", "64m"], "exit", "0");

        Assert.True(byDefault.ExitCode == 0, byDefault.ToString());
        using (var result = JsonDocument.Parse(await File.ReadAllTextAsync(json)))
        {
            var root = result.RootElement;
            Assert.Equal("cgroup", root.GetProperty("cpuTimeSource").GetString());
            var pids = Assert.Single(root.GetProperty("enforced").EnumerateArray());
            Assert.EndsWith($"pids.max={SandboxSpec.DefaultProcessLimit}", pids.GetProperty("mechanism").GetString(), StringComparison.Ordinal);
        }
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains("WithoutOwnCgroup", refused.StandardError, StringComparison.Ordinal);
    }
}
