using System.Net;
using System.Text;
using FsCheck;
using FsCheck.Xunit;
using Sandbox.Images;
using Sandbox.Images.Oci;
using Sandbox.Images.Registry;

namespace Sandbox.Tests.Images.Registry;

/// <summary>The upload side of the distribution client against a fake registry: HEAD skip, upload sessions and their locations, chunks, mounts, retries, errors, manifests.</summary>
public sealed class RegistryPushClientTests
{
    private static readonly RegistryClientOptions Fast = new RegistryClientOptions().WithRetries(3, TimeSpan.FromMilliseconds(1));

    private static readonly ImageReference App = ImageReference.Parse($"{FakeUploadRegistry.Host}/test/app:1");

    private static (Descriptor Descriptor, byte[] Bytes) Blob(int size, int seed = 1)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return (new Descriptor(MediaTypes.OciLayerTarGzip, Digest.Sha256Of(bytes), size), bytes);
    }

    private static Func<Stream> Opener(byte[] bytes) => () => new MemoryStream(bytes, writable: false);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_blob_goes_in_one_PUT_to_the_location_the_registry_gave_with_its_query_kept_and_the_digest_added(bool absoluteLocations)
    {
        var registry = new FakeUploadRegistry { AbsoluteLocations = absoluteLocations };
        var (descriptor, bytes) = Blob(10_000);
        using var client = new RegistryClient(Fast, registry);

        var outcome = await client.PushBlobAsync(App, descriptor, Opener(bytes));

        Assert.Equal(BlobPushOutcome.Uploaded, outcome);
        Assert.Equal(bytes, registry.Blob("test/app", descriptor.Digest));
        var requests = registry.Requests.ToList();
        Assert.Equal([HttpMethod.Head, HttpMethod.Post, HttpMethod.Put], requests.Select(r => r.Method).ToArray());
        Assert.Equal($"http://{FakeUploadRegistry.Host}/v2/test/app/blobs/{descriptor.Digest}", requests[0].Url.ToString());
        Assert.Equal($"http://{FakeUploadRegistry.Host}/v2/test/app/blobs/uploads/", requests[1].Url.ToString());
        Assert.Matches($"^http://{FakeUploadRegistry.Host}/v2/test/app/blobs/uploads/[0-9a-f]+\\?_state=1&digest=sha256%3A{descriptor.Digest.Encoded}$", requests[2].Url.AbsoluteUri);
        Assert.Equal(("application/octet-stream", 10_000L), (requests[2].ContentType, requests[2].BodyBytes));
    }

    [Fact]
    public async Task A_blob_the_repository_has_is_checked_with_HEAD_and_not_sent()
    {
        var registry = new FakeUploadRegistry();
        var (descriptor, bytes) = Blob(100);
        registry.AddBlob("test/app", bytes);
        using var client = new RegistryClient(Fast, registry);
        var reports = new List<BlobProgress>();

        var outcome = await client.PushBlobAsync(App, descriptor, () => throw new InvalidOperationException("the blob must not be read"), progress: new Recorder(reports));

        Assert.Equal(BlobPushOutcome.AlreadyThere, outcome);
        Assert.Equal([HttpMethod.Head], registry.Requests.Select(r => r.Method).ToArray());
        Assert.Empty(reports);
    }

    [Fact]
    public async Task A_blob_in_another_repository_of_the_registry_is_mounted_and_not_sent()
    {
        var registry = new FakeUploadRegistry();
        var (descriptor, bytes) = Blob(100);
        registry.AddBlob("test/source", bytes);
        using var client = new RegistryClient(Fast, registry);

        var outcome = await client.PushBlobAsync(App, descriptor, () => throw new InvalidOperationException("the blob must not be read"),
            mountFrom: ImageReference.Parse($"{FakeUploadRegistry.Host}/test/source:1"));

        Assert.Equal(BlobPushOutcome.Mounted, outcome);
        Assert.Equal(bytes, registry.Blob("test/app", descriptor.Digest));
        var post = registry.Requests.Single(r => r.Method == HttpMethod.Post);
        Assert.Equal($"?mount=sha256%3A{descriptor.Digest.Encoded}&from=test%2Fsource", post.Url.Query);
    }

    [Fact]
    public async Task A_mount_the_registry_cannot_do_becomes_an_upload_in_the_session_it_started()
    {
        var registry = new FakeUploadRegistry();
        var (descriptor, bytes) = Blob(100);
        using var client = new RegistryClient(Fast, registry);

        var outcome = await client.PushBlobAsync(App, descriptor, Opener(bytes), mountFrom: ImageReference.Parse($"{FakeUploadRegistry.Host}/test/source:1"));

        Assert.Equal(BlobPushOutcome.Uploaded, outcome);
        Assert.Equal(1, registry.Count(HttpMethod.Post));
        Assert.Equal(bytes, registry.Blob("test/app", descriptor.Digest));
    }

    [Fact]
    public async Task No_mount_is_tried_from_another_registry()
    {
        var registry = new FakeUploadRegistry();
        var (descriptor, bytes) = Blob(100);
        using var client = new RegistryClient(Fast, registry);

        await client.PushBlobAsync(App, descriptor, Opener(bytes), mountFrom: ImageReference.Parse("docker.io/library/busybox:1"));

        Assert.Equal("", registry.Requests.Single(r => r.Method == HttpMethod.Post).Url.Query);
    }

    [Fact]
    public async Task A_big_blob_goes_in_PATCH_chunks_with_Content_Range_each_to_the_latest_location_then_an_empty_PUT()
    {
        var registry = new FakeUploadRegistry();
        var (descriptor, bytes) = Blob(2500);
        using var client = new RegistryClient(Fast.WithUploadChunking(1000, 1000), registry);
        var reports = new List<BlobProgress>();

        var outcome = await client.PushBlobAsync(App, descriptor, Opener(bytes), progress: new Recorder(reports));

        Assert.Equal(BlobPushOutcome.Uploaded, outcome);
        Assert.Equal(bytes, registry.Blob("test/app", descriptor.Digest));
        var patches = registry.Requests.Where(r => r.Method == HttpMethod.Patch).ToList();
        Assert.Equal(["0-999", "1000-1999", "2000-2499"], patches.Select(p => p.ContentRange ?? "").ToArray());
        Assert.Equal(["?_state=1", "?_state=2", "?_state=3"], patches.Select(p => p.Url.Query).ToArray());
        var put = registry.Requests.Single(r => r.Method == HttpMethod.Put);
        Assert.Equal(0, put.BodyBytes);
        Assert.StartsWith("?_state=4&digest=", put.Url.Query, StringComparison.Ordinal);
        Assert.Equal(2500, reports.Where(r => !r.Completed).Max(r => r.BytesRead));
        Assert.True(reports[^1].Completed);
    }

    [Fact]
    public async Task The_registry_s_minimum_chunk_length_raises_the_chunk_size()
    {
        var registry = new FakeUploadRegistry { ChunkMinLength = 2000 };
        var (descriptor, bytes) = Blob(2500);
        using var client = new RegistryClient(Fast.WithUploadChunking(1000, 1000), registry);

        await client.PushBlobAsync(App, descriptor, Opener(bytes));

        Assert.Equal(["0-1999", "2000-2499"], registry.Requests.Where(r => r.Method == HttpMethod.Patch).Select(p => p.ContentRange ?? "").ToArray());
    }

    [Fact]
    public async Task A_503_restarts_the_upload_from_a_new_session_and_the_blob_is_sent_whole()
    {
        var registry = new FakeUploadRegistry();
        registry.FailNextPuts(2);
        var (descriptor, bytes) = Blob(5000);
        int opened = 0;
        using var client = new RegistryClient(Fast, registry);

        var outcome = await client.PushBlobAsync(App, descriptor, () =>
        {
            opened++;
            return new MemoryStream(bytes, writable: false);
        });

        Assert.Equal(BlobPushOutcome.Uploaded, outcome);
        Assert.Equal((3, 3, 3), (registry.Count(HttpMethod.Post), registry.Count(HttpMethod.Put), opened));
        Assert.Equal(bytes, registry.Blob("test/app", descriptor.Digest));
    }

    [Fact]
    public async Task A_registry_failing_through_every_attempt_is_an_error_naming_the_blob_and_saying_to_try_later()
    {
        var registry = new FakeUploadRegistry();
        registry.FailNextPuts(10);
        var (descriptor, bytes) = Blob(100);
        using var client = new RegistryClient(Fast, registry);

        var e = await Assert.ThrowsAsync<RegistryException>(() => client.PushBlobAsync(App, descriptor, Opener(bytes)));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.Status);
        Assert.Equal(HttpMethod.Put, e.Method);
        Assert.Equal(descriptor.Digest, e.Digest);
        Assert.Equal(3, registry.Count(HttpMethod.Put));
        Assert.Contains("kept failing through every retry", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bytes_that_do_not_match_the_digest_are_refused_at_once_and_named_as_a_damaged_blob()
    {
        var registry = new FakeUploadRegistry();
        var (descriptor, bytes) = Blob(100);
        var damaged = (byte[])bytes.Clone();
        damaged[0] ^= 1;
        using var client = new RegistryClient(Fast, registry);

        var e = await Assert.ThrowsAsync<RegistryException>(() => client.PushBlobAsync(App, descriptor, Opener(damaged)));

        Assert.Equal(HttpStatusCode.BadRequest, e.Status);
        Assert.Equal(1, registry.Count(HttpMethod.Put)); // a 4xx is not retried
        Assert.Contains("DIGEST_INVALID", e.Message, StringComparison.Ordinal);
        Assert.Contains("damaged", e.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HttpStatusCode.Forbidden, "DENIED", "push rights")]
    [InlineData(HttpStatusCode.NotFound, "NAME_UNKNOWN", "no repository '127.0.0.1:5000/test/app'")]
    [InlineData(HttpStatusCode.Unauthorized, "DENIED", "--password-stdin")]
    [InlineData(HttpStatusCode.MethodNotAllowed, "DENIED", "does not take pushes")]
    public async Task A_refused_upload_names_the_registry_repository_and_blob_with_the_registry_s_error_and_a_fix(HttpStatusCode status, string code, string fix)
    {
        var registry = new FakeUploadRegistry { RefuseUploads = status };
        var (descriptor, bytes) = Blob(100);
        using var client = new RegistryClient(Fast, registry);

        var e = await Assert.ThrowsAsync<RegistryException>(() => client.PushBlobAsync(App, descriptor, Opener(bytes)));

        Assert.Equal(status, e.Status);
        Assert.Equal(1, registry.Count(HttpMethod.Post));
        Assert.Contains($"Image '{App}', blob {descriptor.Digest}: POST http://{FakeUploadRegistry.Host}/v2/test/app/blobs/uploads/", e.Message, StringComparison.Ordinal);
        Assert.Contains(code, e.Message, StringComparison.Ordinal);
        Assert.Contains(fix, e.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_upload_started_without_a_Location_is_an_error_saying_the_registry_breaks_the_protocol()
    {
        var registry = new FakeUploadRegistry { OmitLocation = true };
        var (descriptor, bytes) = Blob(100);
        using var client = new RegistryClient(Fast, registry);

        var e = await Assert.ThrowsAsync<RegistryException>(() => client.PushBlobAsync(App, descriptor, Opener(bytes)));

        Assert.Contains("without the Location of the upload", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, registry.Count(HttpMethod.Post));
        Assert.Equal(0, registry.Count(HttpMethod.Put));
    }

    [Fact]
    public async Task A_token_registry_is_asked_for_pull_and_push_on_the_destination_and_pull_on_the_mount_source()
    {
        var registry = new FakeUploadRegistry { RequireToken = true };
        var (descriptor, bytes) = Blob(100);
        using var client = new RegistryClient(Fast, registry);

        await client.PushBlobAsync(App, descriptor, Opener(bytes), mountFrom: ImageReference.Parse($"{FakeUploadRegistry.Host}/test/source:1"));

        var scopes = registry.TokenScopes.ToList();
        Assert.Equal(["repository:test/app:pull,push"], scopes[0]); // the HEAD: the challenge's pull is covered
        Assert.Equal(["repository:test/app:pull,push", "repository:test/source:pull"], scopes[1]); // the mount
        Assert.Equal(2, scopes.Count);
    }

    [Fact]
    public async Task Cancelling_a_push_stops_it_with_an_OperationCanceledException()
    {
        var registry = new FakeUploadRegistry { HangOnPut = true };
        var (descriptor, bytes) = Blob(100);
        using var client = new RegistryClient(Fast, registry);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PushBlobAsync(App, descriptor, Opener(bytes), cancellationToken: cancel.Token));

        Assert.Equal(1, registry.Count(HttpMethod.Put));
    }

    [Fact]
    public async Task A_manifest_is_put_under_the_tag_byte_for_byte_with_its_media_type_and_its_digest_comes_back()
    {
        var registry = new FakeUploadRegistry();
        byte[] manifest = Encoding.UTF8.GetBytes("{ \"schemaVersion\": 2,\n  \"mediaType\": \"" + MediaTypes.DockerManifest + "\" }");
        using var client = new RegistryClient(Fast, registry);

        var digest = await client.PutManifestAsync(App, MediaTypes.DockerManifest, manifest);

        Assert.Equal(Digest.Sha256Of(manifest), digest);
        Assert.Equal(MediaTypes.DockerManifest, registry.Manifests["test/app:1"].ContentType);
        Assert.Equal(manifest, registry.Manifests["test/app:1"].Bytes);
    }

    [Fact]
    public async Task A_registry_that_stores_another_manifest_digest_or_a_destination_pinned_to_another_digest_is_an_error()
    {
        var registry = new FakeUploadRegistry { AnnounceManifestDigest = Digest.Sha256Of([1]) };
        byte[] manifest = Encoding.UTF8.GetBytes("{}");
        using var client = new RegistryClient(Fast, registry);

        var rewritten = await Assert.ThrowsAsync<RegistryException>(() => client.PutManifestAsync(App, MediaTypes.OciManifest, manifest));
        var pinned = await Assert.ThrowsAsync<RegistryException>(() => client.PutManifestAsync(App with { Digest = Digest.Sha256Of([2]) }, MediaTypes.OciManifest, manifest));

        Assert.Contains("rewrote", rewritten.Fix, StringComparison.Ordinal);
        Assert.Contains("not the", pinned.Message, StringComparison.Ordinal);
        Assert.Equal(1, registry.Count(HttpMethod.Put)); // the pinned one was refused before sending
    }

    [Property(MaxTest = 300)]
    public bool A_scope_covers_another_exactly_when_it_names_the_same_resource_and_every_wanted_action(bool sameName, bool[] heldActions, bool[] wantedActions)
    {
        string[] all = ["pull", "push", "delete", "*"];
        string[] held = [.. all.Where((_, i) => i < heldActions.Length && heldActions[i])];
        string[] wanted = [.. all.Where((_, i) => i < wantedActions.Length && wantedActions[i])];
        if (held.Length == 0 || wanted.Length == 0) return true;
        bool covers = RegistryClient.Covers("repository:a/b:" + string.Join(',', held), (sameName ? "repository:a/b:" : "repository:a/c:") + string.Join(',', wanted));
        return covers == (sameName && wanted.All(held.Contains));
    }

    private sealed class Recorder(List<BlobProgress> reports) : IProgress<BlobProgress>
    {
        public void Report(BlobProgress value)
        {
            lock (reports) reports.Add(value);
        }
    }
}
