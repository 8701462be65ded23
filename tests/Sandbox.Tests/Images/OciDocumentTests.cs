using System.Text;
using Sandbox.Images.Oci;
using Sandbox.Images.Store;

namespace Sandbox.Tests.Images;

/// <summary>OCI and Docker documents into the model: the fields a run needs, and clear errors for broken ones.</summary>
public sealed class OciDocumentTests
{
    private const string D1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    private const string D2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    [Fact]
    public void A_config_gives_env_entrypoint_cmd_working_dir_user_and_diff_ids()
    {
        var config = ImageConfig.Parse(Encoding.UTF8.GetBytes($$$"""
            {"architecture":"arm64","variant":"v8","os":"linux","created":"2024-05-01T10:00:00Z",
             "config":{"Env":["PATH=/usr/bin","EMPTY=","A=1=2"],"Entrypoint":["/init"],"Cmd":["serve","--port","80"],
                       "WorkingDir":"/srv","User":"app:staff","Labels":{"k":"v"},"ExposedPorts":{"80/tcp":{}},"StopSignal":"SIGINT"},
             "rootfs":{"type":"layers","diff_ids":["{{{D1}}}","{{{D2}}}"]},"history":[{"created_by":"x"}]}
            """));

        Assert.Equal(new Platform("arm64", "linux", "v8"), config.Platform);
        Assert.Equal<string>(["/init", "serve", "--port", "80"], config.Config.Command);
        Assert.Equal("1=2", config.Config.Environment["A"]);
        Assert.Equal("", config.Config.Environment["EMPTY"]);
        Assert.Equal("/srv", config.Config.WorkingDir);
        Assert.Equal("app:staff", config.Config.User);
        Assert.Equal("v", config.Config.Labels["k"]);
        Assert.Equal<string>(["80/tcp"], config.Config.ExposedPorts);
        Assert.Equal("SIGINT", config.Config.StopSignal);
        Assert.Equal<Digest>([Digest.Parse(D1), Digest.Parse(D2)], config.DiffIds);
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero), config.Created);
    }

    [Fact]
    public void An_empty_entrypoint_differs_from_none()
    {
        var empty = ImageConfig.Parse(Encoding.UTF8.GetBytes($$$"""{"architecture":"amd64","os":"linux","config":{"Entrypoint":[],"Cmd":null},"rootfs":{"type":"layers","diff_ids":[]}}"""));
        var none = ImageConfig.Parse(Encoding.UTF8.GetBytes($$$"""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"""));

        Assert.NotNull(empty.Config.Entrypoint);
        Assert.Null(empty.Config.Cmd);
        Assert.Null(none.Config.Entrypoint);
        Assert.Empty(none.Config.Command);
    }

    [Fact]
    public void A_manifest_and_an_index_are_read_with_platforms_and_ref_names()
    {
        var manifest = ImageManifest.Parse(Encoding.UTF8.GetBytes($$$"""
            {"schemaVersion":2,"mediaType":"{{{MediaTypes.DockerManifest}}}","config":{"mediaType":"{{{MediaTypes.DockerConfig}}}","digest":"{{{D1}}}","size":10},
             "layers":[{"mediaType":"{{{MediaTypes.DockerLayerTarGzip}}}","digest":"{{{D2}}}","size":20}]}
            """));
        var index = ImageIndex.Parse(Encoding.UTF8.GetBytes($$$"""
            {"schemaVersion":2,"manifests":[{"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"{{{D1}}}","size":5,
              "platform":{"architecture":"amd64","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"1.0"}}]}
            """));

        Assert.Equal(Digest.Parse(D1), manifest.Config.Digest);
        Assert.Equal(20, manifest.Layers[0].Size);
        Assert.Equal(Sandbox.Images.Layers.LayerCompression.Gzip, MediaTypes.LayerCompressionOf(manifest.Layers[0].MediaType));
        Assert.Equal("1.0", index.Manifests[0].RefName);
        Assert.Equal(new Platform("amd64", "linux"), index.Manifests[0].Platform);
    }

    [Theory]
    [InlineData("""{"schemaVersion":2,"layers":[]}""", "'config' is missing")]
    [InlineData("""{"schemaVersion":1,"config":{},"layers":[]}""", "schemaVersion 1")]
    [InlineData("""{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:12","size":1},"layers":[]}""", "config.digest")]
    [InlineData("""{"schemaVersion":2,"config":{"mediaType":"x","digest":"DIGEST","size":-1},"layers":[]}""", "'size'")]
    [InlineData("""{"schemaVersion":2,"config":{"mediaType":"x","digest":"DIGEST","size":1}}""", "'layers' is missing")]
    [InlineData("""not json""", "not valid JSON")]
    public void A_broken_manifest_names_the_field(string json, string expected)
    {
        var e = Assert.Throws<FormatException>(() => ImageManifest.Parse(Encoding.UTF8.GetBytes(json.Replace("DIGEST", D1, StringComparison.Ordinal))));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0u, null, "/home/u", "/var/lib/sandbox")]
    [InlineData(1000u, "/data", "/home/u", "/data/sandbox")]
    [InlineData(1000u, "relative", "/home/u", "/home/u/.local/share/sandbox")]
    [InlineData(1000u, null, "/home/u", "/home/u/.local/share/sandbox")]
    public void The_default_store_root_follows_the_user(uint euid, string? xdg, string? home, string expected)
    {
        Assert.Equal(expected, ImageStoreOptions.ChooseRoot(euid, xdg, home));
    }
}
