using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json;
using Sandbox.Images.Layers;

namespace Sandbox.Images.Oci;

/// <summary>
/// A <c>docker save</c> archive: <c>manifest.json</c> lists each image's config file, tags and layer tars.
/// An image manifest is made for each entry (the config's diff ids are the trust anchor: an uncompressed
/// layer's digest is its diff id, so every byte is still verified).
/// </summary>
public sealed class DockerArchiveSource : ImageSource
{
    /// <summary>The file docker save writes.</summary>
    public const string ManifestFile = "manifest.json";

    private readonly TarArchiveIndex _archive;
    private readonly Dictionary<Digest, byte[]> _documents = [];
    private readonly Dictionary<Digest, string> _members = [];

    internal DockerArchiveSource(string path, TarArchiveIndex archive)
    {
        _archive = archive;
        Description = Path.GetFullPath(path);
        var manifests = ImmutableArray.CreateBuilder<Descriptor>();
        try
        {
            using var doc = JsonDocument.Parse(ReadMember(ManifestFile, 8 << 20));
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new FormatException("manifest.json is not an array");
            foreach (var image in doc.RootElement.EnumerateArray())
            {
                string configName = OciJson.OptionalString(image, "Config", "manifest.json") ?? throw new FormatException("manifest.json: an entry has no 'Config'");
                var layerNames = OciJson.RequiredArray(image, "Layers", "manifest.json")
                    .Select(l => l.ValueKind == JsonValueKind.String ? l.GetString()! : throw new FormatException("manifest.json: 'Layers' holds a non-string"))
                    .ToList();
                var descriptor = Synthesize(configName, layerNames);
                var tags = image.TryGetProperty("RepoTags", out var t) && t.ValueKind == JsonValueKind.Array
                    ? t.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList()
                    : [];
                if (tags.Count == 0) manifests.Add(descriptor);
                foreach (var tag in tags)
                    manifests.Add(descriptor with { Annotations = ImmutableDictionary<string, string>.Empty.Add(Descriptor.RefNameAnnotation, tag) });
            }
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            throw new ImageException($"manifest.json cannot be read: {e.Message}.", Description, null, "The archive is broken: save it again.", e);
        }
        Index = new ImageIndex(MediaTypes.OciIndex, manifests.ToImmutable());
    }

    /// <inheritdoc/>
    public override string Description { get; }

    /// <inheritdoc/>
    public override ImageIndex Index { get; }

    /// <inheritdoc/>
    public override Stream OpenBlob(Descriptor descriptor)
    {
        if (_documents.TryGetValue(descriptor.Digest, out var bytes)) return new MemoryStream(bytes, writable: false);
        if (_members.TryGetValue(descriptor.Digest, out var member)) return _archive.Open(member);
        throw new ImageException("the archive does not hold this blob.", Description, descriptor.Digest, "The archive is incomplete: save it again.");
    }

    private Descriptor Synthesize(string configName, List<string> layerNames)
    {
        byte[] configBytes = ReadMember(configName, 8 << 20);
        var configDigest = Digest.Sha256Of(configBytes);
        _documents[configDigest] = configBytes;
        ImageConfig config;
        try
        {
            config = ImageConfig.Parse(configBytes);
        }
        catch (FormatException e)
        {
            throw new ImageException($"{e.Message}.", Description, configDigest, "The archive's image config is broken: save it again.", e);
        }
        if (config.DiffIds.Length != layerNames.Count)
            throw new ImageException($"manifest.json lists {layerNames.Count} layers but the config {config.DiffIds.Length} diff ids.", Description, configDigest, "The archive is broken: save it again.");

        var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteNumber("schemaVersion", 2);
            json.WriteString("mediaType", MediaTypes.OciManifest);
            json.WritePropertyName("config");
            WriteDescriptor(json, MediaTypes.DockerConfig, configDigest, configBytes.Length);
            json.WriteStartArray("layers");
            for (int i = 0; i < layerNames.Count; i++)
            {
                if (!_archive.TryFind(layerNames[i], out _, out long length))
                    throw new ImageException($"the archive has no layer '{layerNames[i]}'.", Description, null, "The archive is incomplete: save it again.");
                var (mediaType, digest) = DescribeLayer(layerNames[i], config.DiffIds[i]);
                _members[digest] = layerNames[i];
                WriteDescriptor(json, mediaType, digest, length);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        byte[] manifest = stream.ToArray();
        var manifestDigest = Digest.Sha256Of(manifest);
        _documents[manifestDigest] = manifest;
        return new Descriptor(MediaTypes.OciManifest, manifestDigest, manifest.Length) { Platform = config.Platform };
    }

    /// <summary>A plain tar's digest is its diff id; a compressed one is hashed here.</summary>
    private (string MediaType, Digest Digest) DescribeLayer(string member, Digest diffId)
    {
        using var stream = _archive.Open(member);
        Span<byte> head = stackalloc byte[4];
        int n = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        var compression = LayerBlob.DetectCompression(head[..n]);
        if (compression == LayerCompression.None)
            return (MediaTypes.DockerLayerTar, diffId);
        stream.Position = 0;
        var digest = Digest.FromHash("sha256", SHA256.HashData(stream));
        return (compression == LayerCompression.Gzip ? MediaTypes.DockerLayerTarGzip : MediaTypes.OciLayerTarZstd, digest);
    }

    private static void WriteDescriptor(Utf8JsonWriter json, string mediaType, Digest digest, long size)
    {
        json.WriteStartObject();
        json.WriteString("mediaType", mediaType);
        json.WriteString("digest", digest.ToString());
        json.WriteNumber("size", size);
        json.WriteEndObject();
    }

    private byte[] ReadMember(string name, long max)
    {
        if (!_archive.TryFind(name, out _, out long length))
            throw new ImageException($"the archive has no '{name}'.", Description, null, "The archive is incomplete: save it again.");
        if (length > max)
            throw new ImageException($"the archive's '{name}' is larger than {max} bytes.", Description, null, "The archive is hostile or broken.");
        using var stream = _archive.Open(name);
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
