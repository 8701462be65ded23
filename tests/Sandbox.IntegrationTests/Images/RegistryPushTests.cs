using System.Net;
using Sandbox.Images;
using Sandbox.Images.Registry;
using Sandbox.Images.Store;
using Sandbox.IntegrationTests.Support;
using static Sandbox.IntegrationTests.Images.StoreFixtures;

namespace Sandbox.IntegrationTests.Images;

/// <summary>Pushing stored images to a real registry (docker-registry on loopback) and pulling them back on a clean store.</summary>
public sealed class RegistryPushTests
{
    [Fact(Timeout = 240_000)]
    public async Task An_imported_image_pushed_then_pulled_on_a_clean_store_has_the_same_digest_and_runs()
    {
        using var registry = await LocalRegistry.StartAsync();
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        var imported = await ImportBusyboxAsync(store);
        var destination = ImageReference.Parse($"{registry.Host}/test/pushed:{BusyboxLayout.Tag}");
        using var client = new RegistryClient();
        var progress = new RecordingProgress();

        var pushed = await store.PushAsync(client, Busybox, destination, progress);

        Assert.Equal(imported.ManifestDigest, pushed.ManifestDigest);
        Assert.Equal(4, pushed.Blobs.Length); // three layers, then the config
        Assert.All(pushed.Blobs, b => Assert.Equal(BlobPushOutcome.Uploaded, b.Outcome));
        Assert.Equal(imported.ConfigDigest, pushed.Blobs[^1].Descriptor.Digest);
        Assert.All(pushed.Blobs, b => Assert.Contains(progress.Reports, r => r.Digest == b.Descriptor.Digest && r.Completed && r.BytesRead == b.Descriptor.Size));

        var clean = ImageStore.Open(new ImageStoreOptions { Root = temp.Combine("clean") });
        var pulled = await clean.PullAsync(client, destination);
        Assert.Equal(imported.ManifestDigest, pulled.ManifestDigest);
        Assert.Equal(imported.Layers.ToArray(), pulled.Layers.ToArray());
        using (var lease = clean.Lease(destination))
        {
            var result = (await SandboxSpec.Command("/bin/sh", "-c", "cat /home/user/file; ls /usr/share/data").WithImage(lease)
                .WithoutNamespaces(SandboxNamespaces.User).RunAsync()).EnsureSuccess();
            Assert.Equal("mine\nnew\n", result.StandardOutput.Text);
        }

        // The pulled image carries the same compressed blobs, so it pushes to another name by mounting them.
        var again = await clean.PushAsync(client, destination);
        Assert.All(again.Blobs, b => Assert.Equal(BlobPushOutcome.AlreadyThere, b.Outcome));
        Assert.Equal(imported.ManifestDigest, again.ManifestDigest);

        var copy = ImageReference.Parse($"{registry.Host}/test/copy:1");
        var mounted = await clean.PushAsync(client, destination, copy);
        Assert.All(mounted.Blobs, b => Assert.Equal(BlobPushOutcome.Mounted, b.Outcome));
        Assert.Equal(0, mounted.UploadedBytes);
        Assert.Equal(imported.ManifestDigest, (await client.GetManifestAsync(copy)).Digest);
    }

    [Fact(Timeout = 240_000)]
    public async Task A_blob_pushed_in_patch_chunks_reaches_the_registry_whole()
    {
        using var registry = await LocalRegistry.StartAsync();
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        var imported = await ImportBusyboxAsync(store);
        var destination = ImageReference.Parse($"{registry.Host}/test/chunked:1");
        // Everything over 4 KiB goes in 256 KiB PATCHes: the busybox layer (about 1 MiB compressed) in several.
        var counter = new MethodCounter(new SocketsHttpHandler { AllowAutoRedirect = false });
        using var client = new RegistryClient(new RegistryClientOptions().WithUploadChunking(4 << 10, 256 << 10), counter);

        var pushed = await store.PushAsync(client, Busybox, destination);

        long layerBytes = pushed.Blobs[0].Descriptor.Size;
        Assert.True(layerBytes > 3 * (256 << 10), $"{layerBytes}");
        Assert.True(counter.Count("PATCH") >= (layerBytes + (256 << 10) - 1) / (256 << 10), $"{counter.Count("PATCH")} PATCHes for {layerBytes} bytes");
        var clean = ImageStore.Open(new ImageStoreOptions { Root = temp.Combine("clean") });
        var pulled = await clean.PullAsync(client, destination);
        Assert.Equal(imported.ManifestDigest, pulled.ManifestDigest);
        Assert.Equal(new FileInfo("/bin/busybox").Length, new FileInfo(Path.Combine(clean.FindLayer(pulled.Layers[0])!.Directory, "bin/busybox")).Length);
    }

    [Fact(Timeout = 240_000)]
    public async Task A_registry_with_token_auth_takes_a_push_with_credentials_and_refuses_wrong_ones_leaving_nothing_behind()
    {
        using var temp = TempDirectory.Create();
        using var tokens = new TokenServer(temp.Path);
        using var registry = await LocalRegistry.StartAsync(tokens.RegistryAuthSection);
        var store = NewStore(temp);
        var imported = await ImportBusyboxAsync(store);
        var destination = ImageReference.Parse($"{registry.Host}/test/private:{BusyboxLayout.Tag}");

        using (var wrong = new RegistryClient(new RegistryClientOptions().WithCredentials(registry.Host, new RegistryCredentials(TokenServer.User, "wrong"))))
        {
            var e = await Assert.ThrowsAsync<RegistryException>(() => store.PushAsync(wrong, Busybox, destination));
            Assert.Equal(HttpStatusCode.Unauthorized, e.Status);
            Assert.Contains($"'{TokenServer.User}'", e.Message, StringComparison.Ordinal);
            Assert.Contains(destination.ToString(), e.Message, StringComparison.Ordinal);
            Assert.Contains("Fix: Check the user name and password", e.Message, StringComparison.Ordinal);
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "tmp")));

        var options = new RegistryClientOptions().WithCredentials(registry.Host, new RegistryCredentials(TokenServer.User, TokenServer.Password));
        using var client = new RegistryClient(options);
        var pushed = await store.PushAsync(client, Busybox, destination);
        var copy = ImageReference.Parse($"{registry.Host}/test/private-copy:1");
        var clean = ImageStore.Open(new ImageStoreOptions { Root = temp.Combine("clean") });
        await clean.PullAsync(client, destination);
        var mounted = await clean.PushAsync(client, destination, copy);

        Assert.Equal(imported.ManifestDigest, pushed.ManifestDigest);
        Assert.All(pushed.Blobs, b => Assert.Equal(BlobPushOutcome.Uploaded, b.Outcome));
        Assert.All(mounted.Blobs, b => Assert.Equal(BlobPushOutcome.Mounted, b.Outcome));
        Assert.Single(tokens.Requests, r => r.Issued && r.Scopes == "repository:test/private:pull,push"); // one token shared by the parallel layer uploads
        Assert.Contains(tokens.Requests, r => r.Issued && r.Scopes == "repository:test/private-copy:pull,push repository:test/private:pull");
    }

    [Fact(Timeout = 240_000)]
    public async Task An_image_whose_layer_blob_is_missing_says_to_import_again_and_an_import_brings_it_back()
    {
        using var registry = await LocalRegistry.StartAsync();
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        var layer = store.FindLayer((await Task.Run(() => store.FindImage(Busybox)!)).Layers[1])!;
        File.Delete(Path.Combine(store.Root, "blobs", "sha256", layer.SourceDigest.Encoded)); // as a store from before blobs were kept
        var destination = ImageReference.Parse($"{registry.Host}/test/old:1");
        using var client = new RegistryClient();

        var e = await Assert.ThrowsAsync<ImageException>(() => store.PushAsync(client, Busybox, destination));
        Assert.Equal(layer.SourceDigest, e.Digest);
        Assert.Contains("Pull or import the image again", e.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(destination))).Status);

        await ImportBusyboxAsync(store);
        var pushed = await store.PushAsync(client, Busybox, destination);
        Assert.Equal(4, pushed.Blobs.Length);
    }

    [Fact(Timeout = 240_000)]
    public async Task Garbage_collection_keeps_the_blobs_of_used_layers_and_removes_them_with_their_layers()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        var full = await ImportBusyboxAsync(store);
        using (var source = Sandbox.Images.Oci.ImageSource.Open(BusyboxLayout.Layout))
            await store.ImportAsync(source, ImageReference.Parse("test/busybox:base"), "base");
        var blobs = full.Layers.Select(l => store.FindLayer(l)!.SourceDigest).ToArray();
        Assert.All(blobs, b => Assert.True(store.HasBlob(b)));
        var usage = store.GetDiskUsage();
        long layerBytes = usage.LayerBytes;
        long layerBlobBytes = blobs.Sum(b => new FileInfo(Path.Combine(store.Root, "blobs", "sha256", b.Encoded)).Length);
        long allBlobBytes = Directory.EnumerateFiles(Path.Combine(store.Root, "blobs", "sha256")).Sum(f => new FileInfo(f).Length);
        Assert.Equal(allBlobBytes - layerBlobBytes, usage.BlobBytes); // layer blobs count with their layers, not twice

        store.CollectGarbage();
        Assert.All(blobs, b => Assert.True(store.HasBlob(b)));

        store.RemoveImage(Busybox);
        var collected = store.CollectGarbage();
        Assert.True(store.HasBlob(blobs[0]));
        Assert.False(store.HasBlob(blobs[1]));
        Assert.False(store.HasBlob(blobs[2]));
        Assert.Contains(blobs[1], collected.RemovedBlobs);
        Assert.True(store.GetDiskUsage().LayerBytes < layerBytes);
    }

    /// <summary>Counts the requests by method on their way to the network.</summary>
    private sealed class MethodCounter(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _counts = new();

        public int Count(string method) => _counts.GetValueOrDefault(method);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            _counts.AddOrUpdate(request.Method.Method, 1, (_, n) => n + 1);
            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class RecordingProgress : IProgress<BlobProgress>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<BlobProgress> _reports = new();

        public IReadOnlyCollection<BlobProgress> Reports => _reports;

        public void Report(BlobProgress value) => _reports.Enqueue(value);
    }
}
