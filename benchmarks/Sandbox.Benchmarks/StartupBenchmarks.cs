using BenchmarkDotNet.Attributes;

namespace Sandbox.Benchmarks;

/// <summary>
/// How long a complete run of /bin/true takes, start to reaped exit: plain Process.Start (the baseline),
/// Sandbox with its default isolation (with and without its own cgroup), and the peers unshare and bwrap started through Process.Start.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
[BenchmarkCategory("Startup")]
public class StartupBenchmarks
{
    private static readonly SandboxSpec DefaultSpec = SandboxSpec.Command(PeerCommands.Payload);
    private static readonly SandboxSpec NoCgroupSpec = DefaultSpec.WithoutOwnCgroup();

    private string _unshare = "";
    private string _bwrap = "";

    [GlobalSetup]
    public void Setup()
    {
        _unshare = PeerCommands.Require(PeerCommands.UnshareExecutable, "unshare", "util-linux");
        _bwrap = PeerCommands.Require(PeerCommands.BwrapExecutable, "bwrap", "bubblewrap");
    }

    [Benchmark(Baseline = true, Description = "Process.Start /bin/true")]
    public void ProcessStart() => PeerCommands.RunToCompletion(PeerCommands.Payload, []);

    [Benchmark(Description = "Sandbox RunAsync /bin/true")]
    public async Task<SandboxOutcome> SandboxRunAsync()
    {
        var result = await DefaultSpec.RunAsync().ConfigureAwait(false);
        return result.EnsureSuccess().Outcome;
    }

    [Benchmark(Description = "Sandbox RunAsync /bin/true, no cgroup (like bwrap)")]
    public async Task<SandboxOutcome> SandboxRunAsyncWithoutCgroup()
    {
        var result = await NoCgroupSpec.RunAsync().ConfigureAwait(false);
        return result.EnsureSuccess().Outcome;
    }

    [Benchmark(Description = "unshare -Urpf --mount-proc /bin/true")]
    public void Unshare() => PeerCommands.RunToCompletion(_unshare, PeerCommands.UnshareArguments);

    [Benchmark(Description = "bwrap --unshare-all /bin/true")]
    public void Bwrap() => PeerCommands.RunToCompletion(_bwrap, PeerCommands.BwrapArguments);
}
