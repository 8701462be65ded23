using Sandbox.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Sandbox.IntegrationTests.Limits;

/// <summary>What the result says was enforced, and the limits that do not end a run by themselves: CPU quota, file size.</summary>
[Collection(LimitsCollection.Name)]
public sealed class EnforcedLimitTests(ITestOutputHelper output)
{
    private const long MiB = 1 << 20;

    [Fact(Timeout = 60_000)]
    public async Task The_result_names_every_limit_and_the_mechanism_that_enforced_it()
    {
        var result = (await Probe.Command("exit", "0")
            .WithMemoryLimit(64 * MiB)
            .WithProcessLimit(32)
            .WithCpuTimeLimit(TimeSpan.FromSeconds(5))
            .WithCpuQuota(2)
            .WithFileSizeLimit(1 << 20)
            .WithStackLimit(8 << 20)
            .RunAsync()).EnsureSuccess();

        foreach (var limit in result.Enforced)
            output.WriteLine(limit.ToString());
        var mechanisms = result.Enforced.ToDictionary(e => e.Limit, e => e.Mechanism); // each limit once
        Assert.Equal("rlimit 1=1048576", mechanisms["file size"]);
        Assert.Equal("rlimit 3=8388608", mechanisms["stack"]);
        if (SandboxCgroupDirectories.HostUsesCgroupV1)
        {
            Assert.Equal("cgroup v1 memory.limit_in_bytes=67108864", mechanisms["memory"]);
            Assert.Contains(mechanisms["swap"], new[] { "cgroup v1 memory.memsw.limit_in_bytes=67108864 (= the memory limit)", "none: the host has no swap (/proc/swaps is empty)" });
            Assert.Equal("cgroup v1 pids.max=32", mechanisms["pids"]);
            Assert.Equal("cgroup v1 cpu.cfs_quota_us=200000 cpu.cfs_period_us=100000", mechanisms["cpu quota"]);
            Assert.Equal("cgroup v1 CPU usage polled every 10 ms, limit 5000 ms", mechanisms["cpu time"]);
        }
        else
        {
            Assert.Equal("cgroup v2 memory.max=67108864", mechanisms["memory"]);
            Assert.Equal("cgroup v2 pids.max=32", mechanisms["pids"]);
            Assert.Equal("cgroup v2 cpu.max=200000 100000", mechanisms["cpu quota"]);
            Assert.Equal("cgroup v2 CPU usage polled every 10 ms, limit 5000 ms", mechanisms["cpu time"]);
        }
        Assert.Equal(["cpu quota", "cpu time", "file size", "memory", "pids", "stack", "swap"], mechanisms.Keys.Order(StringComparer.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_limits_a_sandbox_has_its_own_cgroup_with_the_default_process_limit_and_its_accounting()
    {
        var result = (await Probe.Command("touch", "8").RunAsync()).EnsureSuccess();

        var pids = Assert.Single(result.Enforced);
        Assert.Equal("pids", pids.Limit);
        Assert.EndsWith($"pids.max={SandboxSpec.DefaultProcessLimit}", pids.Mechanism, StringComparison.Ordinal);
        Assert.Equal(CpuTimeSource.Cgroup, result.Usage.CpuSource);
        Assert.NotEqual(MemorySource.RusageMaxRss, result.Usage.MemorySource);
        Assert.InRange(result.Usage.PeakMemoryBytes ?? 0, 8 * MiB, 16 * MiB);
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_its_own_cgroup_nothing_is_enforced_and_the_usage_comes_from_getrusage()
    {
        var result = (await Probe.Command("touch", "8").WithoutOwnCgroup().RunAsync()).EnsureSuccess();

        Assert.Empty(result.Enforced);
        Assert.Equal(CpuTimeSource.Rusage, result.Usage.CpuSource);
        Assert.Equal(MemorySource.RusageMaxRss, result.Usage.MemorySource);
        Assert.InRange(result.Usage.PeakMemoryBytes ?? 0, 8 * MiB, 12 * MiB);
        Assert.Null(result.Usage.PeakProcesses);
    }

    [Fact(Timeout = 60_000)]
    public async Task Half_a_CPU_makes_a_second_of_CPU_take_about_two_seconds()
    {
        var result = (await Probe.Command("spin", "1")
            .WithCpuQuota(0.5)
            .WithWallTimeLimit(TimeSpan.FromSeconds(20))
            .RunAsync()).EnsureSuccess();

        output.WriteLine($"wall {result.WallTime.TotalMilliseconds:0} ms, cpu {result.Usage.CpuTime.TotalMilliseconds:0} ms");
        Assert.Equal("spun", result.StandardOutput.Text.Trim());
        Assert.Contains(result.Enforced, e => e.Limit == "cpu quota");
        Assert.InRange(result.Usage.CpuTime, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.1));
        Assert.InRange(result.WallTime, TimeSpan.FromSeconds(1.6), TimeSpan.FromSeconds(10));
    }

    [Fact(Timeout = 60_000)]
    public async Task Writing_beyond_the_file_size_limit_is_killed_by_SIGXFSZ_at_exactly_the_limit()
    {
        const int Limit = 64 * 1024;
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);

        var result = await Probe.Command("write-bytes", "/out/big", "1048576")
            .AddWritableBind(dir.Path, "/out")
            .WithFileSizeLimit(Limit)
            .RunAsync();

        Assert.Equal(SandboxOutcome.Signaled, result.Outcome);
        Assert.Equal(25, result.Signal); // SIGXFSZ
        Assert.Equal(Limit, new FileInfo(dir.Combine("big")).Length);
        Assert.Contains(result.Enforced, e => e.Limit == "file size" && e.Mechanism == $"rlimit 1={Limit}");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_program_that_ignores_SIGXFSZ_gets_EFBIG_at_the_file_size_limit()
    {
        const int Limit = 64 * 1024;
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);

        var result = (await Probe.Command("write-bytes", "/out/big", "1048576", "ignore-xfsz")
            .AddWritableBind(dir.Path, "/out")
            .WithFileSizeLimit(Limit)
            .RunAsync()).EnsureSuccess();

        Assert.Equal([$"wrote={Limit}", "EFBIG"], result.StandardOutput.Lines());
        Assert.Equal(Limit, new FileInfo(dir.Combine("big")).Length);
    }
}
