using System.Text.Json;

namespace Sandbox.Images.Oci;

/// <summary>An OCI image layout directory: <c>oci-layout</c>, <c>index.json</c> and <c>blobs/ALG/HEX</c>.</summary>
public sealed class OciLayoutSource : ImageSource
{
    /// <summary>The file that marks a layout.</summary>
    public const string LayoutFile = "oci-layout";

    private readonly string _path;

    /// <summary>Opens the layout at <paramref name="path"/> and reads its index.</summary>
    public OciLayoutSource(string path)
    {
        _path = Path.GetFullPath(path);
        CheckLayoutVersion(File.ReadAllBytes(Path.Combine(_path, LayoutFile)), _path);
        byte[] index;
        try
        {
            index = File.ReadAllBytes(Path.Combine(_path, "index.json"));
        }
        catch (IOException e)
        {
            throw new ImageException($"index.json cannot be read: {e.Message}", _path, null, "The layout is incomplete: copy it again.", e);
        }
        Index = ParseIndex(index, _path);
    }

    /// <inheritdoc/>
    public override string Description => _path;

    /// <inheritdoc/>
    public override ImageIndex Index { get; }

    /// <inheritdoc/>
    public override Stream OpenBlob(Descriptor descriptor)
    {
        string blob = Path.Combine(_path, "blobs", descriptor.Digest.Algorithm, descriptor.Digest.Encoded);
        try
        {
            return new FileStream(blob, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        }
        catch (IOException e)
        {
            throw new ImageException($"the blob cannot be read: {e.Message}", _path, descriptor.Digest, "The layout is incomplete: copy the image again.", e);
        }
    }

    internal static void CheckLayoutVersion(byte[] layout, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(layout);
            if (doc.RootElement.ValueKind != JsonValueKind.Object ||
                !doc.RootElement.TryGetProperty("imageLayoutVersion", out var v) || v.ValueKind != JsonValueKind.String ||
                !(v.GetString() ?? "").StartsWith("1.", StringComparison.Ordinal))
                throw new ImageException("oci-layout does not say imageLayoutVersion 1.x.", where, null, "Use an OCI image layout of version 1.");
        }
        catch (JsonException e)
        {
            throw new ImageException($"oci-layout is not JSON: {e.Message}", where, null, "The layout is broken: copy it again.", e);
        }
    }

    internal static ImageIndex ParseIndex(byte[] json, string where)
    {
        try
        {
            return ImageIndex.Parse(json);
        }
        catch (FormatException e)
        {
            throw new ImageException($"{e.Message}.", where, null, "The layout's index.json is broken: copy the image again.", e);
        }
    }
}
