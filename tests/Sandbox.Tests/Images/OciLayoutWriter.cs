using System.Text;
using System.Text.Json;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;

namespace Sandbox.Tests.Images;

/// <summary>Writes an OCI image layout directory from layer blobs: blobs, manifest, config, index.json, oci-layout.</summary>
public static class OciLayoutWriter
{
    public sealed record Layer(byte[] Blob, LayerBlob Facts, string? MediaType = null, long? DeclaredSize = null, Digest? DeclaredDigest = null, Digest? DeclaredDiffId = null);

    public static void Write(string directory, string tag, IReadOnlyList<Layer> layers, string? extraConfig = null)
    {
        Directory.CreateDirectory(Path.Combine(directory, "blobs", "sha256"));
        System.IO.File.WriteAllText(Path.Combine(directory, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        var layerDescriptors = new List<string>();
        foreach (var layer in layers)
        {
            System.IO.File.WriteAllBytes(Path.Combine(directory, "blobs", "sha256", layer.Facts.Digest.Encoded), layer.Blob);
            string mediaType = layer.MediaType ?? layer.Facts.Compression switch
            {
                LayerCompression.Gzip => MediaTypes.OciLayerTarGzip,
                LayerCompression.Zstd => MediaTypes.OciLayerTarZstd,
                _ => MediaTypes.OciLayerTar,
            };
            layerDescriptors.Add(Descriptor(mediaType, layer.DeclaredDigest ?? layer.Facts.Digest, layer.DeclaredSize ?? layer.Blob.Length));
        }
        string platform = Platform.Host.Architecture;
        string diffIds = string.Join(",", layers.Select(l => $"\"{l.DeclaredDiffId ?? l.Facts.DiffId}\""));
        string config = $$$"""{"architecture":"{{{platform}}}","os":"linux","config":{"Env":["PATH=/bin","FOO=bar"],"Entrypoint":["/bin/sh"],"Cmd":["-c","echo hi"],"WorkingDir":"/work","User":"1000:1000"{{{extraConfig}}}},"rootfs":{"type":"layers","diff_ids":[{{{diffIds}}}]}}""";
        var configDigest = WriteBlob(directory, config);
        string manifest = $$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.OciManifest}}}","config":{{{Descriptor(MediaTypes.OciConfig, configDigest, Encoding.UTF8.GetByteCount(config))}}},"layers":[{{{string.Join(",", layerDescriptors)}}}]}""";
        var manifestDigest = WriteBlob(directory, manifest);
        string index = $$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.OciIndex}}}","manifests":[{"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"{{{manifestDigest}}}","size":{{{Encoding.UTF8.GetByteCount(manifest)}}},"annotations":{"org.opencontainers.image.ref.name":"{{{tag}}}"}}]}""";
        System.IO.File.WriteAllText(Path.Combine(directory, "index.json"), index);
        using var _ = JsonDocument.Parse(index); // the test's own JSON must be valid
    }

    private static string Descriptor(string mediaType, Digest digest, long size) =>
        $$$"""{"mediaType":"{{{mediaType}}}","digest":"{{{digest}}}","size":{{{size}}}}""";

    private static Digest WriteBlob(string directory, string json)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        var digest = Digest.Sha256Of(bytes);
        System.IO.File.WriteAllBytes(Path.Combine(directory, "blobs", "sha256", digest.Encoded), bytes);
        return digest;
    }
}
