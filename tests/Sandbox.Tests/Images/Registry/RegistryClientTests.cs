using System.Net;
using Sandbox.Images;
using Sandbox.Images.Oci;
using Sandbox.Images.Registry;

namespace Sandbox.Tests.Images.Registry;

/// <summary>The distribution client against a fake registry: negotiation, auth, redirects, retries, verified blobs, errors.</summary>
public sealed class RegistryClientTests
{
    private static readonly RegistryClientOptions Fast = new RegistryClientOptions().WithRetries(4, TimeSpan.FromMilliseconds(1));

    private static ImageReference Ref(string tagOrDigest = "1") =>
        ImageReference.Parse($"{FakeRegistry.Host}/test/app{(tagOrDigest.StartsWith("sha256:", StringComparison.Ordinal) ? "@" : ":")}{tagOrDigest}");

    [Fact]
    public async Task A_manifest_is_asked_for_with_every_manifest_and_index_media_type_and_comes_back_verified()
    {
        var registry = new FakeRegistry();
        var image = registry.AddImage("amd64", new LayerTar().File("a", "1"), "1");
        using var client = new RegistryClient(Fast, registry);

        var manifest = await client.GetManifestAsync(Ref());

        Assert.Equal(MediaTypes.OciManifest, manifest.MediaType);
        Assert.Equal(image.Manifest, manifest.Digest);
        var accept = registry.Requests.Single().Headers.Accept.Select(a => a.MediaType).ToList();
        Assert.Equal([MediaTypes.OciIndex, MediaTypes.OciManifest, MediaTypes.DockerManifestList, MediaTypes.DockerManifest], accept);
        Assert.Equal($"http://{FakeRegistry.Host}/v2/test/app/manifests/1", registry.Requests.Single().RequestUri!.ToString());
    }

    [Fact]
    public async Task A_reference_pinned_to_a_digest_fetches_by_digest()
    {
        var registry = new FakeRegistry();
        var image = registry.AddImage("amd64", new LayerTar().File("a", "1"));
        using var client = new RegistryClient(Fast, registry);

        var manifest = await client.GetManifestAsync(Ref(image.Manifest.ToString()));

        Assert.Equal(image.Manifest, manifest.Digest);
        Assert.EndsWith("/manifests/" + image.Manifest, registry.Requests.Single().RequestUri!.AbsolutePath, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:5000", "http")]
    [InlineData("localhost:5000", "http")]
    [InlineData("[::1]:5000", "http")]
    [InlineData("registry.example.com", "https")]
    [InlineData("10.0.0.1:5000", "https")]
    public void Loopback_registries_use_http_and_every_other_https(string registry, string scheme)
    {
        using var client = new RegistryClient();
        Assert.Equal(scheme, client.BaseUri(registry).Scheme);
    }

    [Fact]
    public void A_registry_marked_insecure_uses_http_and_Docker_Hub_is_registry_1()
    {
        using var client = new RegistryClient(new RegistryClientOptions().WithInsecureRegistry("registry.local:5000"));
        Assert.Equal("http://registry.local:5000/", client.BaseUri("registry.local:5000").ToString());
        Assert.Equal("https://registry-1.docker.io/", client.BaseUri("docker.io").ToString());
    }

    [Fact]
    public async Task A_401_with_a_bearer_challenge_fetches_an_anonymous_token_for_the_scope_and_retries_with_it()
    {
        var registry = new FakeRegistry { RequireToken = true };
        registry.AddImage("amd64", new LayerTar().File("a", "1"), "1");
        using var client = new RegistryClient(Fast, registry);

        await client.GetManifestAsync(Ref());
        await client.GetManifestAsync(Ref());

        Assert.Equal(1, registry.TokensIssued); // cached per scope
        var calls = registry.Authorizations.ToList();
        Assert.Equal(("", ""), (calls[0].Authorization, calls[1].Authorization)); // the manifest, then the token endpoint anonymously
        Assert.Equal("auth.test", calls[1].Url.Host);
        Assert.Equal("Bearer token-ok", calls[2].Authorization);
        Assert.Equal("Bearer token-ok", calls[3].Authorization);
        Assert.Equal(4, calls.Count);
    }

    [Fact]
    public async Task Basic_credentials_given_to_the_client_go_to_the_token_endpoint_only()
    {
        var registry = new FakeRegistry { RequireToken = true, TokenCredentials = ("alice", "s3cret") };
        registry.AddImage("amd64", new LayerTar().File("a", "1"), "1");
        using var client = new RegistryClient(Fast.WithCredentials(FakeRegistry.Host, new RegistryCredentials("alice", "s3cret")), registry);

        await client.GetManifestAsync(Ref());

        var calls = registry.Authorizations.ToList();
        Assert.StartsWith("Basic ", calls.Single(c => c.Url.Host == "auth.test").Authorization, StringComparison.Ordinal);
        Assert.DoesNotContain(calls.Where(c => c.Url.Host != "auth.test"), c => c.Authorization.StartsWith("Basic", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Wrong_credentials_are_an_error_naming_the_user_the_token_url_and_the_status()
    {
        var registry = new FakeRegistry { RequireToken = true, TokenCredentials = ("alice", "s3cret") };
        registry.AddImage("amd64", new LayerTar().File("a", "1"), "1");
        using var client = new RegistryClient(Fast.WithCredentials(FakeRegistry.Host, new RegistryCredentials("alice", "wrong")), registry);

        var e = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(Ref()));

        Assert.Equal(HttpStatusCode.Unauthorized, e.Status);
        Assert.Equal("auth.test", e.Url!.Host);
        Assert.Contains("'alice'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_blob_redirect_is_followed_without_the_registry_token()
    {
        var registry = new FakeRegistry { RequireToken = true, RedirectBlobs = true };
        var image = registry.AddImage("amd64", new LayerTar().File("a", "1"), "1");
        using var client = new RegistryClient(Fast, registry);
        var descriptor = new Descriptor(MediaTypes.OciLayerTarGzip, image.Layer.Digest, image.Layer.Size!.Value);

        await using (var blob = await client.OpenBlobAsync(Ref(), descriptor))
            await blob.CopyToAsync(Stream.Null);

        var storage = registry.Authorizations.Single(c => c.Url.Host == FakeRegistry.StorageHost);
        Assert.Equal("", storage.Authorization);
        Assert.Equal("signature=x", storage.Url.Query.TrimStart('?'));
    }

    [Fact]
    public async Task A_blob_whose_bytes_do_not_match_its_digest_fails_at_the_end_naming_the_digest_and_the_url()
    {
        var registry = new FakeRegistry();
        var image = registry.AddImage("amd64", new LayerTar().File("a", "1"), "1");
        registry.CorruptBlob = image.Layer.Digest;
        using var client = new RegistryClient(Fast, registry);

        await using var blob = await client.OpenBlobAsync(Ref(), new Descriptor(MediaTypes.OciLayerTarGzip, image.Layer.Digest, image.Layer.Size!.Value));
        var e = await Assert.ThrowsAsync<RegistryException>(() => blob.CopyToAsync(Stream.Null));

        Assert.Equal(image.Layer.Digest, e.Digest);
        Assert.Contains($"not {image.Layer.Digest}", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("/blobs/" + image.Layer.Digest, e.Url!.AbsolutePath, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_blob_longer_than_its_descriptor_is_refused_before_the_end()
    {
        var registry = new FakeRegistry();
        var image = registry.AddImage("amd64", new LayerTar().File("a", "1"), "1");
        using var client = new RegistryClient(Fast, registry);

        await using var blob = await client.OpenBlobAsync(Ref(), new Descriptor(MediaTypes.OciLayerTarGzip, image.Layer.Digest, image.Layer.Size!.Value - 1));
        var e = await Assert.ThrowsAsync<RegistryException>(() => blob.CopyToAsync(Stream.Null));

        Assert.Contains("more than", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_503_is_retried_until_the_registry_answers()
    {
        var registry = new FakeRegistry();
        var image = registry.AddImage("amd64", new LayerTar().File("a", "1"), "1");
        registry.FailNext(3);
        using var client = new RegistryClient(Fast, registry);

        var manifest = await client.GetManifestAsync(Ref());

        Assert.Equal(image.Manifest, manifest.Digest);
        Assert.Equal(4, registry.Requests.Count);
    }

    [Fact]
    public async Task Retries_are_bounded_and_the_last_status_is_the_error()
    {
        var registry = new FakeRegistry();
        registry.AddImage("amd64", new LayerTar().File("a", "1"), "1");
        registry.FailNext(10);
        using var client = new RegistryClient(Fast, registry);

        var e = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(Ref()));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.Status);
        Assert.Equal(4, registry.Requests.Count);
        Assert.Contains("503", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_tag_is_a_404_error_naming_the_reference_url_and_a_fix()
    {
        var registry = new FakeRegistry();
        using var client = new RegistryClient(Fast, registry);

        var e = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(Ref("nope")));

        Assert.Equal(HttpStatusCode.NotFound, e.Status);
        Assert.Equal($"{FakeRegistry.Host}/test/app:nope", e.Image);
        Assert.EndsWith("/manifests/nope", e.Url!.AbsolutePath, StringComparison.Ordinal);
        Assert.Contains("Fix: Check the name and tag", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_stops_a_download_that_hangs()
    {
        var registry = new FakeRegistry();
        var image = registry.AddImage("amd64", new LayerTar().File("a", "1"), "1");
        registry.HangingBlob = image.Layer.Digest;
        using var client = new RegistryClient(Fast, registry);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            client.OpenBlobAsync(Ref(), new Descriptor(MediaTypes.OciLayerTarGzip, image.Layer.Digest, image.Layer.Size!.Value), null, cancel.Token));
    }

    [Fact]
    public async Task A_cancelled_token_sends_nothing()
    {
        var registry = new FakeRegistry();
        using var client = new RegistryClient(Fast, registry);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetManifestAsync(Ref(), new CancellationToken(canceled: true)));
        Assert.Empty(registry.Requests);
    }

    [Fact]
    public async Task A_manifest_served_as_plain_json_is_known_by_its_own_media_type_field()
    {
        var registry = new FakeRegistry { ManifestContentType = "application/json" };
        registry.AddImage("amd64", new LayerTar().File("a", "1"), "1");
        using var client = new RegistryClient(Fast, registry);

        var manifest = await client.GetManifestAsync(Ref());

        Assert.Equal(MediaTypes.OciManifest, manifest.MediaType);
    }

    [Fact]
    public async Task A_registry_asking_for_Basic_gets_the_clients_credentials_and_without_them_the_401_is_the_error()
    {
        var registry = new FakeRegistry { RegistryBasic = ("bob", "pw") };
        registry.AddImage("amd64", new LayerTar().File("a", "1"), "1");
        using var withCredentials = new RegistryClient(Fast.WithCredentials(FakeRegistry.Host, new RegistryCredentials("bob", "pw")), registry);
        await withCredentials.GetManifestAsync(Ref());

        using var anonymous = new RegistryClient(Fast, new FakeRegistry { RegistryBasic = ("bob", "pw") });
        var e = await Assert.ThrowsAsync<RegistryException>(() => anonymous.GetManifestAsync(Ref()));
        Assert.Equal(HttpStatusCode.Unauthorized, e.Status);
        Assert.Contains("needs credentials", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_download_that_breaks_off_is_resumed_from_the_byte_reached_and_still_verified(bool serverIgnoresRange)
    {
        var registry = new FakeRegistry { IgnoreRange = serverIgnoresRange };
        var image = registry.AddImage("amd64", new LayerTar().File("a", new string('x', 100_000)), "1");
        registry.BreakingBlob = image.Layer.Digest;
        using var client = new RegistryClient(Fast, registry);

        var copy = new MemoryStream();
        await using (var blob = await client.OpenBlobAsync(Ref(), new Descriptor(MediaTypes.OciLayerTarGzip, image.Layer.Digest, image.Layer.Size!.Value)))
            await blob.CopyToAsync(copy);

        Assert.Equal(image.Layer.Digest, Digest.Sha256Of(copy.ToArray()));
        var resumed = registry.Requests.Last();
        Assert.Equal(image.Layer.Size!.Value / 2, resumed.Headers.Range!.Ranges.Single().From);
    }
}
