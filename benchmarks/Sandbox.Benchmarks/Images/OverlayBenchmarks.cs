using BenchmarkDotNet.Attributes;
using Sandbox.Images;
using Sandbox.Images.Layers;
using Sandbox.Images.Store;

namespace Sandbox.Benchmarks.Images;

/// <summary>
/// A complete run of busybox's <c>true</c> on the host root (the baseline) against image roots of 1 and 5 layers cached
/// in a store (an overlay under a throw-away upper layer), with the spec made once and with a <see cref="ImageStore.Lease"/>
/// and <see cref="SandboxSpec.WithImage(ImageLease)"/> per run; and the lease alone. As root every run leaves the user
/// namespace out (root's store has trusted.overlay.* xattrs), the baseline too. The interleaved figures are the
/// <c>overlay-cost</c> mode's; these are means of back-to-back runs, with allocations.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
[BenchmarkCategory("Layers")]
public class OverlayBenchmarks
{
    private static readonly ImageReference OneName = ImageReference.Parse("bench/busybox:1");
    private static readonly ImageReference FiveName = ImageReference.Parse("bench/busybox:5");

    private BenchScratch _scratch = null!;
    private ImageStore _store = null!;
    private ImageLease _one = null!;
    private ImageLease _five = null!;
    private SandboxSpec _host = null!;
    private SandboxSpec _onOne = null!;
    private SandboxSpec _onFive = null!;

    [GlobalSetup]
    public void Setup()
    {
        _scratch = BenchScratch.Create("sandbox-overlay-bdn-");
        var one = BenchImageLayout.Write(_scratch.Combine("one"), "1", BenchImages.OneLayer(), BenchImages.Payload);
        var five = BenchImageLayout.Write(_scratch.Combine("five"), "5", BenchImages.FiveLayers(), BenchImages.Payload);
        _store = BenchImages.ImportAsync(_scratch.Combine("store"), LayerApplyOptions.ForCurrentUser(), one, OneName).GetAwaiter().GetResult();
        BenchImages.ImportAsync(_store.Root, LayerApplyOptions.ForCurrentUser(), five, FiveName).GetAwaiter().GetResult();
        _one = _store.Lease(OneName);
        _five = _store.Lease(FiveName);
        _host = SandboxSpec.Command(BenchImages.Payload[0], BenchImages.Payload[1..]);
        if (Interop.FileSystemCalls.Geteuid() == 0) _host = _host.WithoutNamespaces(SandboxNamespaces.User);
        _onOne = _host.WithImage(_one);
        _onFive = _host.WithImage(_five);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _one.Dispose();
        _five.Dispose();
        _scratch.Dispose();
    }

    [Benchmark(Baseline = true, Description = "RunAsync busybox true, host root")]
    public async Task<SandboxOutcome> HostRoot() => (await _host.RunAsync().ConfigureAwait(false)).EnsureSuccess().Outcome;

    [Benchmark(Description = "RunAsync busybox true, image root, 1 layer")]
    public async Task<SandboxOutcome> ImageOneLayer() => (await _onOne.RunAsync().ConfigureAwait(false)).EnsureSuccess().Outcome;

    [Benchmark(Description = "RunAsync busybox true, image root, 5 layers")]
    public async Task<SandboxOutcome> ImageFiveLayers() => (await _onFive.RunAsync().ConfigureAwait(false)).EnsureSuccess().Outcome;

    [Benchmark(Description = "Lease + WithImage + RunAsync, 5 layers")]
    public async Task<SandboxOutcome> LeaseAndRun()
    {
        using var lease = _store.Lease(FiveName);
        return (await _host.WithImage(lease).RunAsync().ConfigureAwait(false)).EnsureSuccess().Outcome;
    }

    [Benchmark(Description = "ImageStore.Lease + dispose, 5 layers")]
    public int LeaseOnly()
    {
        using var lease = _store.Lease(FiveName);
        return lease.Layers.Length;
    }
}
