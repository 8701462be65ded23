using Sandbox.Images;
using Sandbox.IntegrationTests.Support;
using static Sandbox.IntegrationTests.Images.StoreFixtures;

namespace Sandbox.IntegrationTests.Images;

/// <summary>Listing, removing, collecting garbage and measuring the store, and a lease holding collection off.</summary>
public sealed class StoreMaintenanceTests
{
    [Fact(Timeout = 180_000)]
    public async Task Removing_an_image_and_collecting_garbage_frees_only_what_no_other_image_uses()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        var full = await ImportBusyboxAsync(store);
        using (var source = Sandbox.Images.Oci.ImageSource.Open(BusyboxLayout.Layout))
            await store.ImportAsync(source, ImageReference.Parse("test/busybox:base"), "base");
        var usage = store.GetDiskUsage();
        var baseUsage = usage.Images.Single(i => i.Reference.Tag == "base");
        var fullUsage = usage.Images.Single(i => i.Reference.Tag == BusyboxLayout.Tag);
        Assert.Equal(0, baseUsage.UniqueBytes);
        Assert.True(fullUsage.Bytes > new FileInfo("/bin/busybox").Length, $"{fullUsage.Bytes}");
        Assert.Equal(fullUsage.Bytes, baseUsage.Bytes + fullUsage.UniqueBytes);
        Assert.Equal(0, usage.UnreferencedLayerBytes);

        Assert.True(store.RemoveImage(Busybox));
        Assert.False(store.RemoveImage(Busybox));
        Assert.True(store.GetDiskUsage().UnreferencedLayerBytes > 0);
        var collected = store.CollectGarbage();

        Assert.Equal(full.Layers[1..].Order().ToArray(), collected.RemovedLayers.Order().ToArray());
        Assert.Contains(full.ManifestDigest, collected.RemovedBlobs);
        Assert.True(collected.FreedBytes > 0);
        Assert.Equal([full.Layers[0]], store.ListLayers().Select(l => l.DiffId).ToArray());
        Assert.True(Directory.Exists(store.LayerDirectory(full.Layers[0])));
        Assert.False(Directory.Exists(store.LayerDirectory(full.Layers[1])));
        Assert.Single(store.ListImages());
    }

    [Fact(Timeout = 180_000)]
    public async Task A_lease_holds_garbage_collection_off_until_it_is_released()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        var image = await ImportBusyboxAsync(store);
        var lease = store.Lease(Busybox);
        store.RemoveImage(Busybox);

        using (var soon = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
            Assert.ThrowsAny<OperationCanceledException>(() => store.CollectGarbage(soon.Token));
        Assert.True(Directory.Exists(lease.Layers[0].Directory));
        lease.Dispose();
        var collected = store.CollectGarbage();

        Assert.Equal(3, collected.RemovedLayers.Length);
        Assert.Empty(store.ListLayers());
        Assert.Equal(image.Layers.Length, collected.RemovedLayers.Length);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_lease_on_a_missing_image_says_to_import_it()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);

        var e = await Assert.ThrowsAsync<ImageException>(() => Task.Run(() => store.Lease(Busybox)));

        Assert.Contains("Import or pull", e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task Garbage_collection_removes_leftovers_of_an_interrupted_import()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        string leftover = temp.Combine("store/tmp/abc-interrupted/diff/etc");
        Directory.CreateDirectory(leftover);
        File.WriteAllText(Path.Combine(leftover, "x"), "x");
        File.SetUnixFileMode(Path.GetDirectoryName(leftover)!, UnixFileMode.UserRead);

        var collected = store.CollectGarbage();

        Assert.Equal(1, collected.RemovedTemporaries);
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Combine("store/tmp")));
        Assert.Equal(3, store.ListLayers().Count);
    }
}
