using System.Text;
using Sandbox.Images;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;
using Sandbox.Images.Registry;
using Sandbox.Images.Store;
using Sandbox.Tests.Images.Registry;

namespace Sandbox.Tests.Images.Store;

/// <summary>
/// A pull with <see cref="LayerUnpacking.OnFirstUse"/>: only verified blobs are stored; the first lease (or
/// <see cref="ImageStore.UnpackAsync"/>) unpacks each layer once, as safely as an import; garbage collection and disk
/// usage see blob-only layers.
/// </summary>
public sealed class OnFirstUsePullTests
{
    private static readonly RegistryClientOptions Fast = new RegistryClientOptions().WithRetries(3, TimeSpan.FromMilliseconds(1));
    private static readonly ImagePullOptions OnFirstUse = new ImagePullOptions().WithUnpacking(LayerUnpacking.OnFirstUse);
    private static readonly ImageReference App = ImageReference.Parse($"{FakeRegistry.Host}/test/app:1");

    private static ImageStore NewStore(ScratchDirectory scratch) =>
        ImageStore.Open(new ImageStoreOptions { Root = scratch.Combine("store"), Layers = LayerApplierTests.Unprivileged });

    /// <summary>A two-layer image under the tag "1": the base has etc/hello, the top etc/top. <paramref name="diffIdOverride"/> replaces the top's diff id in the config.</summary>
    private sealed record PushedLayer(Digest Digest, long Size, Digest DiffId);

    private static (PushedLayer Base, PushedLayer Top) AddTwoLayerImage(FakeRegistry registry, Digest? diffIdOverride = null)
    {
        var (baseBlob, baseFacts) = new LayerTar().Directory("etc/").File("etc/hello", "world").ToBlob(LayerCompression.Gzip);
        var (topBlob, topFacts) = new LayerTar().Directory("etc/").File("etc/top", string.Concat(Enumerable.Repeat("top layer ", 5000))).ToBlob(LayerCompression.Gzip);
        registry.AddBlob(baseBlob);
        registry.AddBlob(topBlob);
        string config = $$"""{"architecture":"{{Platform.Host.Architecture}}","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["{{baseFacts.DiffId}}","{{diffIdOverride ?? topFacts.DiffId}}"]} }""";
        byte[] configBytes = Encoding.UTF8.GetBytes(config);
        var configDigest = registry.AddBlob(configBytes);
        registry.AddManifest(MediaTypes.OciManifest, $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"{{MediaTypes.OciConfig}}","digest":"{{configDigest}}","size":{{configBytes.Length}} },"layers":[{"mediaType":"{{MediaTypes.OciLayerTarGzip}}","digest":"{{baseFacts.Digest}}","size":{{baseBlob.Length}} },{"mediaType":"{{MediaTypes.OciLayerTarGzip}}","digest":"{{topFacts.Digest}}","size":{{topBlob.Length}} }]}""", "1");
        return (new PushedLayer(baseFacts.Digest, baseBlob.Length, baseFacts.DiffId!.Value), new PushedLayer(topFacts.Digest, topBlob.Length, topFacts.DiffId!.Value));
    }

    private static string[] Entries(ScratchDirectory scratch, params string[] dir) =>
        Directory.Exists(scratch.Combine(["store", .. dir])) ? [.. Directory.EnumerateFileSystemEntries(scratch.Combine(["store", .. dir]))] : [];

    [Fact]
    public async Task A_pull_on_first_use_stores_the_verified_blobs_the_config_and_the_name_and_unpacks_nothing()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        var (bottom, top) = AddTwoLayerImage(registry);
        using var client = new RegistryClient(Fast, registry);
        var store = NewStore(scratch);

        var image = await store.PullAsync(client, App, OnFirstUse);

        Assert.Equal([bottom.DiffId, top.DiffId], image.Layers.ToArray());
        Assert.Equal(image.ManifestDigest, store.FindImage(App)!.ManifestDigest);
        Assert.True(store.HasBlob(bottom.Digest));
        Assert.True(store.HasBlob(top.Digest));
        Assert.True(store.HasBlob(image.ConfigDigest));
        Assert.True(store.HasBlob(image.ManifestDigest));
        Assert.Empty(Entries(scratch, "layers", "sha256"));
        Assert.Empty(Entries(scratch, "tmp"));
        Assert.Empty(store.ListLayers());
        Assert.Null(store.FindLayer(top.DiffId));
    }

    [Fact]
    public async Task The_first_lease_unpacks_every_layer_and_the_second_unpacks_none()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        var (bottom, top) = AddTwoLayerImage(registry);
        using var client = new RegistryClient(Fast, registry);
        var store = NewStore(scratch);
        await store.PullAsync(client, App, OnFirstUse);

        ulong inode;
        using (var first = store.Lease(App))
        {
            Assert.Equal([bottom.DiffId, top.DiffId], first.Unpacked.ToArray());
            Assert.Equal("world", File.ReadAllText(Path.Combine(first.Layers[0].Directory, "etc/hello")));
            Assert.StartsWith("top layer top layer", File.ReadAllText(Path.Combine(first.Layers[1].Directory, "etc/top")), StringComparison.Ordinal);
            Assert.Equal(top.Digest, first.Layers[1].SourceDigest);
            inode = Inode(first.Layers[1].Directory);
        }
        using var second = NewStore(scratch).Lease(App); // another store object: nothing cached
        Assert.Empty(second.Unpacked);
        Assert.Equal(inode, Inode(second.Layers[1].Directory));
        Assert.Empty(Entries(scratch, "tmp"));
        Assert.Equal(2, store.ListLayers().Count);
    }

    [Fact]
    public async Task UnpackAsync_unpacks_ahead_of_the_first_lease_and_then_has_nothing_to_do()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        var (bottom, top) = AddTwoLayerImage(registry);
        using var client = new RegistryClient(Fast, registry);
        var store = NewStore(scratch);
        await store.PullAsync(client, App, OnFirstUse);

        Assert.Equal([bottom.DiffId, top.DiffId], (await store.UnpackAsync(App)).ToArray());
        Assert.Empty(await store.UnpackAsync(App));
        using var lease = store.Lease(App);
        Assert.Empty(lease.Unpacked);
        Assert.Equal(2, lease.LowerDirectories.Length);
    }

    [Fact]
    public async Task A_layer_unpacked_by_an_eager_pull_is_not_unpacked_again_and_only_the_missing_one_is()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        var single = registry.AddImage(Platform.Host.Architecture, new LayerTar().Directory("etc/").File("etc/hello", "world"), "base");
        var (bottom, top) = AddTwoLayerImage(registry); // the same base layer bytes
        Assert.Equal(single.Layer.Digest, bottom.Digest);
        using var client = new RegistryClient(Fast, registry);
        var store = NewStore(scratch);
        await store.PullAsync(client, ImageReference.Parse($"{FakeRegistry.Host}/test/app:base"));

        await store.PullAsync(client, App, OnFirstUse);
        using var lease = store.Lease(App);

        Assert.Equal([top.DiffId], lease.Unpacked.ToArray());
    }

    [Fact]
    public async Task A_damaged_stored_blob_fails_the_lease_naming_the_layer_leaves_nothing_and_the_next_pull_repairs_it()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        var (_, top) = AddTwoLayerImage(registry);
        using var client = new RegistryClient(Fast, registry);
        var store = NewStore(scratch);
        await store.PullAsync(client, App, OnFirstUse);
        string blob = scratch.Combine("store", "blobs", "sha256", top.Digest.Encoded);
        byte[] bytes = File.ReadAllBytes(blob);
        bytes[bytes.Length / 2] ^= 0x55;
        File.WriteAllBytes(blob, bytes);

        var e = Assert.Throws<ImageException>(() => store.Lease(App));

        Assert.Contains(top.DiffId.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains("damaged", e.Message, StringComparison.Ordinal);
        Assert.Equal(top.Digest, e.Digest);
        Assert.Empty(Entries(scratch, "tmp"));
        Assert.DoesNotContain(Entries(scratch, "layers", "sha256"), d => d.EndsWith(top.DiffId.Encoded, StringComparison.Ordinal));
        Assert.False(store.HasBlob(top.Digest)); // removed, so the next pull fetches it again

        await store.PullAsync(client, App, OnFirstUse);
        using var lease = store.Lease(App);
        Assert.Equal([top.DiffId], lease.Unpacked.ToArray());
    }

    [Fact]
    public async Task A_config_whose_diff_id_does_not_match_the_verified_blob_fails_the_lease_and_keeps_the_blob()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        var wrong = Digest.Sha256Of("not the tar"u8.ToArray());
        var (_, top) = AddTwoLayerImage(registry, diffIdOverride: wrong);
        using var client = new RegistryClient(Fast, registry);
        var store = NewStore(scratch);
        await store.PullAsync(client, App, OnFirstUse); // the blob's digest and size are right: the pull cannot tell

        var e = Assert.Throws<LayerException>(() => store.Lease(App));

        Assert.Equal(LayerProblem.DiffIdMismatch, e.Kind);
        Assert.Empty(Entries(scratch, "tmp"));
        Assert.DoesNotContain(Entries(scratch, "layers", "sha256"), d => d.EndsWith(wrong.Encoded, StringComparison.Ordinal));
        Assert.True(store.HasBlob(top.Digest)); // the blob is what the manifest names; the image is what is broken
    }

    [Fact]
    public async Task A_blob_with_a_wrong_digest_fails_the_pull_naming_it_and_stores_no_name_and_no_partial_blob()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        var (bottom, top) = AddTwoLayerImage(registry);
        registry.CorruptBlob = top.Digest;
        using var client = new RegistryClient(Fast, registry);
        var store = NewStore(scratch);

        var e = await Assert.ThrowsAnyAsync<ImageException>(() => store.PullAsync(client, App, OnFirstUse));

        Assert.Contains(top.Digest.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Empty(store.ListImages());
        Assert.False(store.HasBlob(top.Digest));
        Assert.Empty(Entries(scratch, "tmp"));
        Assert.Empty(Entries(scratch, "layers", "sha256"));
    }

    [Fact]
    public async Task A_cancelled_pull_on_first_use_leaves_no_name_and_nothing_in_tmp()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        var (_, top) = AddTwoLayerImage(registry);
        registry.HangingBlob = top.Digest;
        using var client = new RegistryClient(Fast, registry);
        var store = NewStore(scratch);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.PullAsync(client, App, OnFirstUse, cancellationToken: cancel.Token));

        Assert.Empty(store.ListImages());
        Assert.False(store.HasBlob(top.Digest));
        Assert.Empty(Entries(scratch, "tmp"));
    }

    [Fact]
    public async Task Garbage_collection_keeps_the_blobs_of_a_named_image_not_yet_unpacked_and_removes_them_after_rmi()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        var (bottom, top) = AddTwoLayerImage(registry);
        using var client = new RegistryClient(Fast, registry);
        var store = NewStore(scratch);
        var image = await store.PullAsync(client, App, OnFirstUse);

        var kept = store.CollectGarbage();
        Assert.Empty(kept.RemovedBlobs);
        using (var lease = store.Lease(App))
            Assert.Equal(2, lease.Unpacked.Length);

        Assert.True(store.RemoveImage(App));
        var collected = store.CollectGarbage();
        Assert.Equal(
            new[] { bottom.Digest, top.Digest, image.ConfigDigest, image.ManifestDigest }.Select(d => d.Encoded).Order(StringComparer.Ordinal),
            collected.RemovedBlobs.Select(d => d.Encoded).Order(StringComparer.Ordinal));
        Assert.Equal(2, collected.RemovedLayers.Length);
    }

    [Fact]
    public async Task Garbage_collection_removes_the_blobs_of_an_image_removed_before_it_was_ever_unpacked()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        var (bottom, top) = AddTwoLayerImage(registry);
        using var client = new RegistryClient(Fast, registry);
        var store = NewStore(scratch);
        await store.PullAsync(client, App, OnFirstUse);

        store.RemoveImage(App);
        var collected = store.CollectGarbage();

        Assert.Contains(bottom.Digest, collected.RemovedBlobs);
        Assert.Contains(top.Digest, collected.RemovedBlobs);
        Assert.Empty(Entries(scratch, "blobs", "sha256"));
    }

    [Fact]
    public async Task Disk_usage_counts_a_layer_not_yet_unpacked_by_its_blob_and_then_by_its_tree_and_blob()
    {
        using var scratch = new ScratchDirectory();
        var registry = new FakeRegistry();
        var (bottom, top) = AddTwoLayerImage(registry);
        using var client = new RegistryClient(Fast, registry);
        var store = NewStore(scratch);
        await store.PullAsync(client, App, OnFirstUse);

        var packed = store.GetDiskUsage();
        Assert.Equal(2, packed.LayerCount);
        Assert.Equal(2, packed.PackedLayerCount);
        Assert.Equal(bottom.Size + top.Size, packed.LayerBytes);
        Assert.Equal(packed.LayerBytes, packed.Images.Single().Bytes);
        Assert.Equal(packed.LayerBytes, packed.Images.Single().UniqueBytes);

        store.Lease(App).Dispose();
        var unpacked = store.GetDiskUsage();
        Assert.Equal(2, unpacked.LayerCount);
        Assert.Equal(0, unpacked.PackedLayerCount);
        Assert.True(unpacked.LayerBytes > packed.LayerBytes, $"{unpacked.LayerBytes} <= {packed.LayerBytes}");
        Assert.Equal(packed.BlobBytes, unpacked.BlobBytes); // manifest and config only, both times
    }

    [Fact]
    public void Pull_options_are_immutable_and_default_to_an_eager_pull_for_this_host()
    {
        var defaults = new ImagePullOptions();
        var arm = defaults.WithPlatform(new Platform("arm64", "linux")).WithUnpacking(LayerUnpacking.OnFirstUse);

        Assert.Equal(LayerUnpacking.Eager, defaults.Unpacking);
        Assert.Null(defaults.Platform);
        Assert.Equal(LayerUnpacking.OnFirstUse, arm.Unpacking);
        Assert.Equal("arm64", arm.Platform!.Architecture);
    }

    private static ulong Inode(string path)
    {
        var status = Sandbox.Interop.ConfinedDirectory.Open(Path.GetDirectoryName(path)!);
        using (status)
            return status.TryStatus(Path.GetFileName(path))!.Value.Inode;
    }
}
