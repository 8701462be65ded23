using System.Text.Json;
using Sandbox.Images.Oci;
using Sandbox.Images.Store;

namespace Sandbox.Tests.Images;

/// <summary>The config and manifest of a committed image: the base's, with the new layer appended and every other field kept.</summary>
public sealed class ImageCommitDocumentTests
{
    private static readonly Digest DiffId = Digest.Sha256Of("tar"u8);
    private static readonly Digest Blob = Digest.Sha256Of("gzip"u8);

    [Fact]
    public void The_config_gains_the_diff_id_and_a_history_entry_and_keeps_everything_else()
    {
        byte[] baseConfig = """
            {"architecture":"amd64","os":"linux","config":{"Env":["A=b+c<d>"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]},
             "history":[{"created_by":"base"}],"x-unknown":{"kept":true}}
            """u8.ToArray();
        var created = new DateTimeOffset(2024, 2, 3, 4, 5, 6, TimeSpan.Zero);

        byte[] config = ImageStore.CommittedConfig(baseConfig, DiffId, created, new ImageCommitOptions().WithComment("why"));

        var parsed = ImageConfig.Parse(config);
        Assert.Equal(2, parsed.DiffIds.Length);
        Assert.Equal(DiffId, parsed.DiffIds[1]);
        Assert.Equal(["A=b+c<d>"], parsed.Config.Env.ToArray());
        using var json = JsonDocument.Parse(config);
        var history = json.RootElement.GetProperty("history");
        Assert.Equal(2, history.GetArrayLength());
        Assert.Equal("sandbox commit", history[1].GetProperty("created_by").GetString());
        Assert.Equal("why", history[1].GetProperty("comment").GetString());
        Assert.Equal("2024-02-03T04:05:06Z", history[1].GetProperty("created").GetString());
        Assert.Equal("2024-02-03T04:05:06Z", json.RootElement.GetProperty("created").GetString());
        Assert.True(json.RootElement.GetProperty("x-unknown").GetProperty("kept").GetBoolean());
        Assert.Contains("b+c<d>", System.Text.Encoding.UTF8.GetString(config), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MediaTypes.OciManifest, MediaTypes.OciLayerTarGzip)]
    [InlineData(MediaTypes.DockerManifest, MediaTypes.DockerLayerTarGzip)]
    public void The_manifest_names_the_new_config_and_appends_the_layer_in_its_own_family(string manifestType, string layerType)
    {
        byte[] baseManifest = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = manifestType,
            config = new { mediaType = "cfg", digest = Digest.Sha256Of("old"u8).ToString(), size = 3 },
            layers = new[] { new { mediaType = "base-layer", digest = Digest.Sha256Of("base"u8).ToString(), size = 4 } },
            annotations = new Dictionary<string, string> { ["k"] = "v" },
        });
        var configDigest = Digest.Sha256Of("new"u8);

        byte[] manifest = ImageStore.CommittedManifest(baseManifest, configDigest, 42, (Blob, 77, MediaTypes.OciLayerTarGzip));

        using var json = JsonDocument.Parse(manifest);
        var root = json.RootElement;
        Assert.Equal(configDigest.ToString(), root.GetProperty("config").GetProperty("digest").GetString());
        Assert.Equal(42, root.GetProperty("config").GetProperty("size").GetInt64());
        Assert.Equal("cfg", root.GetProperty("config").GetProperty("mediaType").GetString());
        var layers = root.GetProperty("layers");
        Assert.Equal(2, layers.GetArrayLength());
        Assert.Equal("base-layer", layers[0].GetProperty("mediaType").GetString());
        Assert.Equal(layerType, layers[1].GetProperty("mediaType").GetString());
        Assert.Equal(Blob.ToString(), layers[1].GetProperty("digest").GetString());
        Assert.Equal(77, layers[1].GetProperty("size").GetInt64());
        Assert.Equal("v", root.GetProperty("annotations").GetProperty("k").GetString());
    }
}
