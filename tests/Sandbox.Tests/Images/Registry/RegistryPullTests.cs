using Sandbox.Images;
using Sandbox.Images.Oci;
using Sandbox.Images.Registry;
using Sandbox.Images.Store;

namespace Sandbox.Tests.Images.Registry;

/// <summary>Pulling into the store through <see cref="RegistryImageSource"/>: platform choice, verification, nothing left behind on failure.</summary>
public sealed class RegistryPullTests
{
    private static readonly RegistryClientOptions Fast = new RegistryClientOptions().WithRetries(3, TimeSpan.FromMilliseconds(1));

    private static ImageStore NewStore(ScratchDirectory scratch) =>
        ImageStore.Open(new ImageStoreOptions { Root = scratch.Combine("store"), Layers = LayerApplierTests.Unprivileged });

    [Theory]
    [InlineData(MediaTypes.OciIndex, "amd64")]
    [InlineData(MediaTypes.OciIndex, "arm64")]
    [InlineData(MediaTypes.DockerManifestList, "arm64")]
    public async Task An_index_resolves_to_the_manifest_of_the_platform_asked_for(string indexType, string architecture)
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        var (amd64, arm64) = registry.AddMultiPlatformImage("multi", indexType);
        using var client = new RegistryClient(Fast, registry);
        var store = NewStore(scratch);
        var reference = ImageReference.Parse($"{FakeRegistry.Host}/test/app:multi");

        var image = await store.PullAsync(client, reference, new Platform(architecture, "linux"));

        Assert.Equal(architecture == "amd64" ? amd64 : arm64, image.ManifestDigest);
        Assert.Equal(architecture, image.Config.Platform.Architecture);
        Assert.Equal(architecture, File.ReadAllText(Path.Combine(store.FindLayer(image.Layers.Single())!.Directory, "arch")));
        Assert.Equal(reference, store.ListImages().Single().Reference);
    }

    [Fact]
    public async Task A_platform_the_index_lacks_is_an_error_listing_what_it_has()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        registry.AddMultiPlatformImage("multi");
        using var client = new RegistryClient(Fast, registry);

        var e = await Assert.ThrowsAsync<ImageException>(() =>
            NewStore(scratch).PullAsync(client, ImageReference.Parse($"{FakeRegistry.Host}/test/app:multi"), new Platform("s390x", "linux")));

        Assert.Contains("linux/arm64/v8", e.Message, StringComparison.Ordinal);
        Assert.Contains("linux/amd64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pull_through_token_auth_redirects_and_503s_stores_the_image_and_reports_progress()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry { RequireToken = true, RedirectBlobs = true };
        var pushed = registry.AddImage(Platform.Host.Architecture, new LayerTar().Directory("etc/").File("etc/hello", "world"), "1");
        registry.FailNext(2);
        using var client = new RegistryClient(Fast, registry);
        var progress = new List<BlobProgress>();
        var store = NewStore(scratch);

        var image = await store.PullAsync(client, ImageReference.Parse($"{FakeRegistry.Host}/test/app:1"), progress: new SynchronousProgress(progress));

        Assert.Equal(pushed.Manifest, image.ManifestDigest);
        Assert.Equal("world", File.ReadAllText(Path.Combine(store.FindLayer(image.Layers[0])!.Directory, "etc/hello")));
        var layerProgress = progress.Where(p => p.Digest == pushed.Layer.Digest).ToList();
        Assert.True(layerProgress[^1].Completed);
        Assert.Equal(pushed.Layer.Size, layerProgress[^1].BytesRead);
    }

    [Fact]
    public async Task A_layer_with_a_wrong_digest_fails_the_pull_naming_the_digest_and_leaves_nothing_in_the_store()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        var pushed = registry.AddImage(Platform.Host.Architecture, new LayerTar().File("a", "1"), "1");
        registry.CorruptBlob = pushed.Layer.Digest;
        using var client = new RegistryClient(Fast, registry);
        var store = NewStore(scratch);

        var e = await Assert.ThrowsAnyAsync<ImageException>(() => store.PullAsync(client, ImageReference.Parse($"{FakeRegistry.Host}/test/app:1")));

        Assert.Contains(pushed.Layer.Digest.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Empty(store.ListImages());
        Assert.Empty(store.ListLayers());
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch.Combine("store", "tmp")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch.Combine("store", "layers", "sha256")));
    }

    [Fact]
    public async Task A_cancelled_pull_stops_the_download_and_leaves_no_image_or_partial_layer()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        var pushed = registry.AddImage(Platform.Host.Architecture, new LayerTar().File("a", "1"), "1");
        registry.HangingBlob = pushed.Layer.Digest;
        using var client = new RegistryClient(Fast, registry);
        var store = NewStore(scratch);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            store.PullAsync(client, ImageReference.Parse($"{FakeRegistry.Host}/test/app:1"), cancellationToken: cancel.Token));

        Assert.Empty(store.ListImages());
        Assert.Empty(store.ListLayers());
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch.Combine("store", "tmp")));
    }

    private sealed class SynchronousProgress(List<BlobProgress> seen) : IProgress<BlobProgress>
    {
        public void Report(BlobProgress value)
        {
            lock (seen) seen.Add(value);
        }
    }
}
