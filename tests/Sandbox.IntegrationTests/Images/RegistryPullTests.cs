using Sandbox.Images;
using Sandbox.Images.Registry;
using Sandbox.IntegrationTests.Support;
using static Sandbox.IntegrationTests.Images.StoreFixtures;

namespace Sandbox.IntegrationTests.Images;

/// <summary>Pulling from a real registry (docker-registry on loopback) the busybox image skopeo pushed there.</summary>
public sealed class RegistryPullTests
{
    [Fact(Timeout = 240_000)]
    public async Task A_pull_from_a_real_registry_stores_the_same_manifest_config_and_layers_as_the_import_from_the_layout()
    {
        using var registry = await LocalRegistry.StartAsync();
        registry.Push(BusyboxLayout.Layout, BusyboxLayout.Tag, "test/busybox");
        using var temp = TempDirectory.Create();
        var imported = await ImportBusyboxAsync(NewStore(temp));
        var pullStore = Sandbox.Images.Store.ImageStore.Open(new() { Root = temp.Combine("pulled") });
        var reference = ImageReference.Parse($"{registry.Host}/test/busybox:{BusyboxLayout.Tag}");
        using var client = new RegistryClient();

        var pulled = await pullStore.PullAsync(client, reference);

        Assert.Equal(reference, pulled.Reference);
        Assert.Equal(imported.ManifestDigest, pulled.ManifestDigest);
        Assert.Equal(imported.ConfigDigest, pulled.ConfigDigest);
        Assert.Equal(imported.Layers.ToArray(), pulled.Layers.ToArray());
        Assert.Equal(imported.Config.Config.Env.ToArray(), pulled.Config.Config.Env.ToArray());
        string layer = pullStore.FindLayer(pulled.Layers[0])!.Directory;
        Assert.Equal(new FileInfo("/bin/busybox").Length, new FileInfo(Path.Combine(layer, "bin/busybox")).Length);
        Assert.Equal(BusyboxLayout.Capability, Sandbox.Interop.ExtendedAttributes.TryGet(Path.Combine(layer, "bin/busybox"), "security.capability"));
        Assert.True(Status(Path.Combine(pullStore.FindLayer(pulled.Layers[1])!.Directory, "etc/remove-me"))!.Value.IsOverlayWhiteout);
    }

    [Fact(Timeout = 240_000)]
    public async Task Pulling_by_digest_and_a_missing_tag_from_a_real_registry()
    {
        using var registry = await LocalRegistry.StartAsync();
        registry.Push(BusyboxLayout.Layout, BusyboxLayout.Tag, "test/busybox");
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        using var client = new RegistryClient();
        var byTag = await client.GetManifestAsync(ImageReference.Parse($"{registry.Host}/test/busybox:{BusyboxLayout.Tag}"));

        var pinned = await store.PullAsync(client, ImageReference.Parse($"{registry.Host}/test/busybox@{byTag.Digest}"));
        var e = await Assert.ThrowsAsync<RegistryException>(() => store.PullAsync(client, ImageReference.Parse($"{registry.Host}/test/busybox:missing")));

        Assert.Equal(byTag.Digest, pinned.ManifestDigest);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, e.Status);
        Assert.Contains("/v2/test/busybox/manifests/missing", e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 240_000)]
    public async Task A_registry_with_token_auth_is_pulled_with_Basic_credentials_for_a_signed_token_and_refuses_anonymous_pulls()
    {
        using var temp = TempDirectory.Create();
        using var tokens = new TokenServer(temp.Path);
        using var registry = await LocalRegistry.StartAsync(tokens.RegistryAuthSection);
        BusyboxLayout.Run("skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false", "--dest-creds", $"{TokenServer.User}:{TokenServer.Password}",
            $"oci:{BusyboxLayout.Layout}:{BusyboxLayout.Tag}", $"docker://{registry.Host}/test/busybox:{BusyboxLayout.Tag}");
        var reference = ImageReference.Parse($"{registry.Host}/test/busybox:{BusyboxLayout.Tag}");
        var store = NewStore(temp);

        using (var anonymous = new RegistryClient())
        {
            var e = await Assert.ThrowsAsync<RegistryException>(() => store.PullAsync(anonymous, reference));
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, e.Status);
            Assert.StartsWith(tokens.Realm, e.Url!.ToString(), StringComparison.Ordinal);
        }
        var options = new RegistryClientOptions().WithCredentials(registry.Host, new RegistryCredentials(TokenServer.User, TokenServer.Password));
        using var client = new RegistryClient(options);
        var pulled = await store.PullAsync(client, reference);

        Assert.Equal(3, pulled.Layers.Length);
        Assert.Contains(tokens.Requests, r => r.User == TokenServer.User && r.Issued && r.Scopes == "repository:test/busybox:pull");
        Assert.Contains(tokens.Requests, r => r.User is null && !r.Issued);
        Assert.Equal(reference, store.ListImages().Single().Reference);
    }
}
