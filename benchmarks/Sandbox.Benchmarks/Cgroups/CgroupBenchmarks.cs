using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Sandbox.Cgroups;

namespace Sandbox.Benchmarks.Cgroups;

/// <summary>
/// What a sandbox cgroup costs: a complete run of /bin/true with limits against the same run without (the baseline),
/// and the cgroup alone through the driver the runner uses — create (mkdir + limits), join (a real process's pid
/// written into each cgroup.procs), leave (the process written back into its parents' cgroup.procs, so it can serve
/// the next invocation; the runner has no such step: its processes exit) and destroy. Needs root.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
[BenchmarkCategory("Cgroups")]
public class CgroupBenchmarks
{
    private static readonly SandboxSpec Plain = SandboxSpec.Command(PeerCommands.Payload).WithoutOwnCgroup();
    private static readonly SandboxSpec Judged = PeerCommands.WithJudgeLimits(SandboxSpec.Command(PeerCommands.Payload));
    private static readonly SandboxSpec Limited = PeerCommands.WithLimits(SandboxSpec.Command(PeerCommands.Payload));
    private static readonly CgroupLimits JudgeLimits = new() { MemoryBytes = 64L << 20, MaxProcesses = 16 };

    private Process? _parked;
    private ICgroupDriver? _driver;
    private string[] _parentProcs = [];
    private string _pid = "";
    private long _next;

    [GlobalSetup]
    public void Setup()
    {
        _parked = Process.Start(new ProcessStartInfo("/bin/sleep", "infinity") { UseShellExecute = false })
            ?? throw new InvalidOperationException("Process.Start(/bin/sleep) returned null.");
        _pid = _parked.Id.ToString(CultureInfo.InvariantCulture);
        var layout = CgroupLayoutDetector.Detect(CgroupFileSystem.Instance, 0);
        _driver = CgroupDriverFactory.Create(layout, CgroupFileSystem.Instance);
        // The parked process's own cgroup in each hierarchy is the parent sandbox cgroups are created in.
        _parentProcs = [.. _driver.ParentDirectories.Select(d => d + "/cgroup.procs")];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _parked?.Kill();
        _parked?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "RunAsync /bin/true, no limits")]
    public async Task<SandboxOutcome> RunWithoutLimits() => (await Plain.RunAsync().ConfigureAwait(false)).EnsureSuccess().Outcome;

    [Benchmark(Description = "RunAsync /bin/true, memory + pids + CPU time")]
    public async Task<SandboxOutcome> RunWithJudgeLimits() => (await Judged.RunAsync().ConfigureAwait(false)).EnsureSuccess().Outcome;

    [Benchmark(Description = "RunAsync /bin/true, memory + pids + CPU time + CPU quota")]
    public async Task<SandboxOutcome> RunWithLimits() => (await Limited.RunAsync().ConfigureAwait(false)).EnsureSuccess().Outcome;

    [Benchmark(Description = "cgroup create + join + leave + destroy, memory + pids")]
    public async Task CreateJoinLeaveDestroy()
    {
        var cgroup = _driver!.Create(string.Create(CultureInfo.InvariantCulture, $"bdn.{Interlocked.Increment(ref _next)}"), JudgeLimits);
        foreach (string procs in cgroup.ProcsFiles)
            CgroupFileSystem.Instance.WriteText(procs, _pid);
        foreach (string procs in _parentProcs.Where(p => cgroup.ProcsFiles.Any(f => f.StartsWith(p[..^"cgroup.procs".Length], StringComparison.Ordinal))))
            CgroupFileSystem.Instance.WriteText(procs, _pid);
        await cgroup.DestroyAsync().ConfigureAwait(false);
    }
}
