using System.Collections.Immutable;
using System.Text.Json;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;

namespace Sandbox.Images.Store;

/// <summary>The store's own small records: an image's name and parts, a layer's facts.</summary>
internal static class StoreJson
{
    public sealed record ImageRecord(ImageReference Reference, Digest Manifest, Digest Config, ImmutableArray<Digest> Layers, DateTimeOffset Imported);

    public static byte[] WriteImage(ImageRecord record)
    {
        var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("reference", record.Reference.ToString());
            json.WriteString("manifest", record.Manifest.ToString());
            json.WriteString("config", record.Config.ToString());
            json.WriteStartArray("layers");
            foreach (var layer in record.Layers) json.WriteStringValue(layer.ToString());
            json.WriteEndArray();
            json.WriteString("imported", record.Imported);
            json.WriteEndObject();
        }
        return stream.ToArray();
    }

    public static ImageRecord ReadImage(byte[] bytes)
    {
        using var doc = JsonDocument.Parse(bytes);
        var root = doc.RootElement;
        return new ImageRecord(
            ImageReference.Parse(root.GetProperty("reference").GetString()!),
            Digest.Parse(root.GetProperty("manifest").GetString()!),
            Digest.Parse(root.GetProperty("config").GetString()!),
            [.. root.GetProperty("layers").EnumerateArray().Select(l => Digest.Parse(l.GetString()!))],
            root.GetProperty("imported").GetDateTimeOffset());
    }

    public static byte[] WriteLayer(StoredLayer layer)
    {
        var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("diffId", layer.DiffId.ToString());
            json.WriteString("sourceDigest", layer.SourceDigest.ToString());
            json.WriteNumber("compressedBytes", layer.CompressedBytes);
            json.WriteNumber("entries", layer.Entries);
            json.WriteNumber("fileBytes", layer.FileBytes);
            json.WriteNumber("notes", layer.Notes);
            json.WriteString("xattrNamespace", layer.XattrNamespace.ToString());
            json.WriteEndObject();
        }
        return stream.ToArray();
    }

    public static StoredLayer ReadLayer(byte[] bytes, string directory)
    {
        using var doc = JsonDocument.Parse(bytes);
        var root = doc.RootElement;
        return new StoredLayer(
            Digest.Parse(root.GetProperty("diffId").GetString()!),
            directory,
            Digest.Parse(root.GetProperty("sourceDigest").GetString()!),
            root.GetProperty("compressedBytes").GetInt64(),
            root.GetProperty("entries").GetInt32(),
            root.GetProperty("fileBytes").GetInt64(),
            root.GetProperty("notes").GetInt32(),
            Enum.Parse<OverlayXattrNamespace>(root.GetProperty("xattrNamespace").GetString()!));
    }
}
