using System.Globalization;
using Sandbox.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Sandbox.IntegrationTests.Limits;

/// <summary>
/// CPU sets and block I/O limits on the real kernel: the program sees only its CPUs, the disk limit is in the
/// sandbox's cgroup while it runs, and direct writes to that disk go at the limited rate.
/// </summary>
[Collection(LimitsCollection.Name)]
public sealed class CpuSetAndIoLimitTests(ITestOutputHelper output)
{
    private const long MiB = 1 << 20;

    [Theory(Timeout = 60_000)]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("0-1")]
    public async Task A_sandbox_pinned_to_a_CPU_set_is_allowed_exactly_those_CPUs(string cpus)
    {
        Assert.True(Environment.ProcessorCount >= 2, "These rows need a machine with two CPUs (CI has them).");

        var result = (await Probe.Command("cpus").WithCpuSet(cpus).RunAsync()).EnsureSuccess();

        Assert.Equal(cpus, result.StandardOutput.Values()["Cpus_allowed_list"]);
        var version = SandboxCgroupDirectories.HostUsesCgroupV1 ? 1 : 2;
        Assert.Equal(
            [new EnforcedLimit("cpus", $"cgroup v{version} cpuset.cpus={cpus}"), new EnforcedLimit("pids", $"cgroup v{version} pids.max={SandboxSpec.DefaultProcessLimit}")],
            result.Enforced.AsEnumerable());
        Assert.Empty(SandboxCgroupDirectories.OfThisProcess());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_CPU_that_is_not_online_is_refused_before_anything_starts()
    {
        int beyond = Environment.ProcessorCount + 2;

        var e = await Assert.ThrowsAsync<SandboxValidationException>(() =>
            Probe.Command("cpus").WithCpuSet($"0,{beyond}").RunAsync());

        Assert.Contains($"names CPU {beyond}, which is not online on this host", Assert.Single(e.Problems), StringComparison.Ordinal);
        Assert.Empty(SandboxCgroupDirectories.OfThisProcess());
    }

    [Fact(Timeout = 60_000)]
    public async Task An_IO_limit_on_the_disk_under_tmp_is_in_the_sandboxs_cgroup_while_it_runs()
    {
        string disk = DiskUnderTemp();

        await using var running = await Probe.Command("sleep", "10")
            .AddIoLimit(disk, writeBytesPerSecond: 4 * MiB, readOperationsPerSecond: 1000)
            .StartAsync();

        if (SandboxCgroupDirectories.HostUsesCgroupV1)
        {
            string blkio = Assert.Single(SandboxCgroupDirectories.OfThisProcess(), d => d.StartsWith("/sys/fs/cgroup/blkio/", StringComparison.Ordinal));
            Assert.Equal($"{disk} {4 * MiB}", (await File.ReadAllTextAsync(Path.Combine(blkio, "blkio.throttle.write_bps_device"))).Trim());
            Assert.Equal($"{disk} 1000", (await File.ReadAllTextAsync(Path.Combine(blkio, "blkio.throttle.read_iops_device"))).Trim());
            Assert.Equal("", (await File.ReadAllTextAsync(Path.Combine(blkio, "blkio.throttle.read_bps_device"))).Trim());
        }
        else
        {
            string cgroup = Assert.Single(SandboxCgroupDirectories.OfThisProcess());
            Assert.Equal($"{disk} rbps=max wbps={4 * MiB} riops=1000 wiops=max", (await File.ReadAllTextAsync(Path.Combine(cgroup, "io.max"))).Trim());
        }
        await running.KillAsync();
        var result = await running.WaitAsync();
        Assert.Contains(result.Enforced, e => e.Limit == $"io {disk}");
        Assert.Empty(SandboxCgroupDirectories.OfThisProcess());
    }

    [Fact(Timeout = 60_000)]
    public async Task Direct_writes_to_a_disk_limited_to_4_MiB_per_second_go_at_that_rate()
    {
        const int Mebibytes = 8;
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);
        string disk = DiskUnderTemp();
        var write = Probe.Command("write-direct", "/out/data", Mebibytes.ToString(CultureInfo.InvariantCulture)).AddWritableBind(dir.Path, "/out");

        var bare = (await write.RunAsync()).EnsureSuccess().StandardOutput.Values();
        var limited = (await write.AddIoLimit(disk, writeBytesPerSecond: 4 * MiB).RunAsync()).EnsureSuccess().StandardOutput.Values();

        long bareMs = long.Parse(bare["ms"], CultureInfo.InvariantCulture);
        long limitedMs = long.Parse(limited["ms"], CultureInfo.InvariantCulture);
        output.WriteLine($"{Mebibytes} MiB with O_DIRECT to {disk}: {bareMs} ms unlimited, {limitedMs} ms at 4 MiB/s");
        Assert.Equal((Mebibytes * MiB).ToString(CultureInfo.InvariantCulture), limited["wrote"]);
        // The disk is much faster than the limit, so the time is the limit's: 8 MiB at 4 MiB/s, 2 s (the throttle may
        // let the first slice through early).
        Assert.True(bareMs < 1000, $"the disk itself took {bareMs} ms for {Mebibytes} MiB: too slow to show a 4 MiB/s limit");
        Assert.InRange(limitedMs, 1500, 6000);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_CLI_pins_to_a_CPU_set_and_limits_a_disk_and_says_so_in_the_result()
    {
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);
        string json = dir.Combine("result.json");
        string disk = DiskUnderTemp();

        var run = await RootlessCli.RunProbeAsRootAsync(["--cpuset", "0", "--io-limit", $"{disk}:wbps=4m,riops=100", "--result-json", json], "cpus");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("0", ProbeOutput.Values(run.StandardOutput)["Cpus_allowed_list"]);
        using var result = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var enforced = result.RootElement.GetProperty("enforced").EnumerateArray()
            .ToDictionary(e => e.GetProperty("limit").GetString()!, e => e.GetProperty("mechanism").GetString()!);
        Assert.Equal(["cpus", $"io {disk}", "pids"], enforced.Keys.Order(StringComparer.Ordinal));
        Assert.EndsWith("cpuset.cpus=0", enforced["cpus"], StringComparison.Ordinal);
        Assert.Contains(SandboxCgroupDirectories.HostUsesCgroupV1 ? $"write_bps_device '{disk} {4 * MiB}'" : $"wbps={4 * MiB}", enforced[$"io {disk}"], StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_CLI_reports_a_bad_CPU_list_and_a_bad_IO_limit_together()
    {
        var run = await RootlessCli.RunProbeAsRootAsync(["--cpuset", "3-1", "--io-limit", "254:0:wbps=0", "--io-limit", "no-such-disk:rbps=1m"], "cpus");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("CpuSet '3-1' is not a CPU list", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("wbps '0' is not a size per second", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("I/O limit device 'no-such-disk' is neither MAJOR:MINOR", run.StandardError, StringComparison.Ordinal);
        Assert.Equal("", run.StandardOutput);
    }

    /// <summary>The disk under the temporary directory (where the tests' writable binds live).</summary>
    private static string DiskUnderTemp() =>
        BlockDevices.DiskHolding(Path.GetTempPath())
        ?? throw new InvalidOperationException($"{Path.GetTempPath()} is not on a block device here, so an I/O limit cannot be shown on it.");
}
