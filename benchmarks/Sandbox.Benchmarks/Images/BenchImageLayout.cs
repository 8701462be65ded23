using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Sandbox.Images.Oci;

namespace Sandbox.Benchmarks.Images;

/// <summary>
/// Writes an OCI image layout whose layers are tar+gzip blobs made by <see cref="BenchLayer"/> writers, in order
/// (base first): the blobs, a config naming their diff ids, a manifest, and an index with the tag. What the
/// image benchmarks pull, push and run; written by us (no umoci), so the bytes are the same on every machine.
/// </summary>
internal sealed class BenchImageLayout
{
    private BenchImageLayout(string directory, string tag, IReadOnlyList<LayerFacts> layers)
    {
        Directory = directory;
        Tag = tag;
        Layers = layers;
    }

    /// <summary>The layout's directory.</summary>
    public string Directory { get; }

    /// <summary>The tag its index names.</summary>
    public string Tag { get; }

    /// <summary>Each layer's sizes and entry count, base first.</summary>
    public IReadOnlyList<LayerFacts> Layers { get; }

    /// <summary>Compressed bytes of every layer.</summary>
    public long CompressedBytes => Layers.Sum(l => l.CompressedBytes);

    /// <summary>Uncompressed tar bytes of every layer.</summary>
    public long TarBytes => Layers.Sum(l => l.TarBytes);

    /// <summary>Entries of every layer.</summary>
    public int Entries => Layers.Sum(l => l.Entries);

    /// <summary>One line: layers, entries, tar and gzip sizes.</summary>
    public string Describe() =>
        $"{Layers.Count} layer(s), {Entries} entries, {TarBytes / 1e6:F1} MB tar, {CompressedBytes / 1e6:F1} MB gzip ({string.Join(" + ", Layers.Select(l => l.Name))})";

    /// <summary>Writes the layout at <paramref name="directory"/> (created; must not exist) with <paramref name="layers"/>, base first.</summary>
    public static BenchImageLayout Write(string directory, string tag, IReadOnlyList<BenchLayer> layers, IReadOnlyList<string> command)
    {
        string blobs = Path.Combine(directory, "blobs", "sha256");
        System.IO.Directory.CreateDirectory(blobs);
        var facts = new List<LayerFacts>();
        foreach (var layer in layers)
        {
            var tar = new MemoryStream();
            int entries;
            using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
                entries = layer.Write(writer);
            byte[] tarBytes = tar.ToArray();
            var gzip = new MemoryStream();
            using (var compressor = new GZipStream(gzip, CompressionLevel.Optimal, leaveOpen: true))
                compressor.Write(tarBytes);
            byte[] gzipBytes = gzip.ToArray();
            var digest = Digest.Sha256Of(gzipBytes);
            File.WriteAllBytes(Path.Combine(blobs, digest.Encoded), gzipBytes);
            facts.Add(new LayerFacts(layer.Name, digest, Digest.Sha256Of(tarBytes), gzipBytes.Length, tarBytes.Length, entries));
        }
        string diffIds = string.Join(',', facts.Select(f => $"\"{f.DiffId}\""));
        string cmd = string.Join(',', command.Select(c => $"\"{c}\""));
        string config = $"{{\"architecture\":\"{Platform.Host.Architecture}\",\"os\":\"linux\",\"config\":{{\"Cmd\":[{cmd}],\"Env\":[\"PATH=/bin\"]}}," +
            $"\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[{diffIds}]}}}}";
        var (configDigest, configSize) = WriteDocument(blobs, config);
        string layerDescriptors = string.Join(',', facts.Select(f => $"{{\"mediaType\":\"{MediaTypes.OciLayerTarGzip}\",\"digest\":\"{f.Digest}\",\"size\":{f.CompressedBytes}}}"));
        string manifest = $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{configDigest}\",\"size\":{configSize}}}," +
            $"\"layers\":[{layerDescriptors}]}}";
        var (manifestDigest, manifestSize) = WriteDocument(blobs, manifest);
        File.WriteAllText(Path.Combine(directory, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        File.WriteAllText(Path.Combine(directory, "index.json"),
            $"{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"{manifestDigest}\",\"size\":{manifestSize},\"annotations\":{{\"org.opencontainers.image.ref.name\":\"{tag}\"}}}}]}}");
        return new BenchImageLayout(directory, tag, facts);
    }

    private static (Digest Digest, int Size) WriteDocument(string blobs, string json)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        var digest = Digest.Sha256Of(bytes);
        File.WriteAllBytes(Path.Combine(blobs, digest.Encoded), bytes);
        return (digest, bytes.Length);
    }
}
