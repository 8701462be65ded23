using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;

namespace Sandbox.Images.Oci;

/// <summary>
/// Reads OCI and Docker image documents from JSON into the immutable model. Strict where the spec is
/// (digests, sizes, required fields), lenient where images in the wild are (unknown fields, null arrays).
/// Every problem is a <see cref="FormatException"/> that names the field.
/// </summary>
internal static class OciJson
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    public static ImageIndex ParseIndex(ReadOnlySpan<byte> json)
    {
        using var doc = Open(json, "index");
        var root = doc.RootElement;
        RequireSchemaVersion(root, "index");
        string? mediaType = OptionalString(root, "mediaType", "index");
        if (mediaType is not null && !MediaTypes.IsIndex(mediaType))
            throw new FormatException($"index: mediaType '{mediaType}' is not an image index");
        var manifests = RequiredArray(root, "manifests", "index")
            .Select((m, i) => ParseDescriptor(m, $"index: manifests[{i}]"))
            .ToImmutableArray();
        return new ImageIndex(mediaType, manifests);
    }

    public static ImageManifest ParseManifest(ReadOnlySpan<byte> json)
    {
        using var doc = Open(json, "manifest");
        var root = doc.RootElement;
        RequireSchemaVersion(root, "manifest");
        string mediaType = OptionalString(root, "mediaType", "manifest") ?? MediaTypes.OciManifest;
        if (!MediaTypes.IsManifest(mediaType))
            throw new FormatException($"manifest: mediaType '{mediaType}' is not an image manifest");
        if (!root.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
            throw new FormatException("manifest: 'config' is missing");
        var layers = root.TryGetProperty("layers", out var l) && l.ValueKind == JsonValueKind.Array
            ? l.EnumerateArray().Select((x, i) => ParseDescriptor(x, $"manifest: layers[{i}]")).ToImmutableArray()
            : throw new FormatException("manifest: 'layers' is missing");
        return new ImageManifest(mediaType, ParseDescriptor(config, "manifest: config"), layers);
    }

    public static ImageConfig ParseConfig(ReadOnlySpan<byte> json)
    {
        using var doc = Open(json, "config");
        var root = doc.RootElement;
        string architecture = OptionalString(root, "architecture", "config") ?? throw new FormatException("config: 'architecture' is missing");
        string os = OptionalString(root, "os", "config") ?? throw new FormatException("config: 'os' is missing");
        var platform = new Platform(architecture, os, OptionalString(root, "variant", "config"));
        if (!root.TryGetProperty("rootfs", out var rootfs) || rootfs.ValueKind != JsonValueKind.Object)
            throw new FormatException("config: 'rootfs' is missing");
        string? type = OptionalString(rootfs, "type", "config: rootfs");
        if (type != "layers")
            throw new FormatException($"config: rootfs.type is '{type}', not 'layers'");
        var diffIds = RequiredArray(rootfs, "diff_ids", "config: rootfs")
            .Select((d, i) => ParseDigest(d, $"config: rootfs.diff_ids[{i}]"))
            .ToImmutableArray();
        var container = root.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object
            ? ParseContainerConfig(c)
            : ContainerConfig.Empty;
        DateTimeOffset? created = OptionalString(root, "created", "config") is { } text &&
            DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when) ? when : null;
        return new ImageConfig(platform, container, diffIds) { Created = created };
    }

    private static ContainerConfig ParseContainerConfig(JsonElement c)
    {
        const string Where = "config: config";
        return new ContainerConfig
        {
            User = NullIfEmpty(OptionalString(c, "User", Where)),
            Env = OptionalStrings(c, "Env", Where) ?? [],
            Entrypoint = OptionalStrings(c, "Entrypoint", Where),
            Cmd = OptionalStrings(c, "Cmd", Where),
            WorkingDir = NullIfEmpty(OptionalString(c, "WorkingDir", Where)),
            StopSignal = NullIfEmpty(OptionalString(c, "StopSignal", Where)),
            Labels = OptionalStringMap(c, "Labels", Where),
            ExposedPorts = OptionalKeys(c, "ExposedPorts"),
            Volumes = OptionalKeys(c, "Volumes"),
        };
    }

    public static Descriptor ParseDescriptor(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new FormatException($"{where}: is not an object");
        string mediaType = OptionalString(e, "mediaType", where) ?? throw new FormatException($"{where}: 'mediaType' is missing");
        if (!e.TryGetProperty("digest", out var digest))
            throw new FormatException($"{where}: 'digest' is missing");
        if (!e.TryGetProperty("size", out var size) || size.ValueKind != JsonValueKind.Number || !size.TryGetInt64(out long bytes) || bytes < 0)
            throw new FormatException($"{where}: 'size' is missing or not a non-negative integer");
        Platform? platform = null;
        if (e.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object)
            platform = new Platform(
                OptionalString(p, "architecture", where + ".platform") ?? "",
                OptionalString(p, "os", where + ".platform") ?? "",
                OptionalString(p, "variant", where + ".platform"));
        return new Descriptor(mediaType, ParseDigest(digest, where + ".digest"), bytes)
        {
            Platform = platform,
            Annotations = OptionalStringMap(e, "annotations", where),
        };
    }

    public static Digest ParseDigest(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.String)
            throw new FormatException($"{where}: is not a string");
        return Digest.TryParse(e.GetString(), out var digest, out var problem)
            ? digest
            : throw new FormatException($"{where}: '{e.GetString()}' is not a digest: {problem}");
    }

    public static JsonDocument Open(ReadOnlySpan<byte> json, string what)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = Options.MaxDepth });
            var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind != JsonValueKind.Object && doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                doc.Dispose();
                throw new FormatException($"{what}: the JSON is not an object");
            }
            return doc;
        }
        catch (JsonException e)
        {
            throw new FormatException($"{what}: not valid JSON ({e.Message})", e);
        }
    }

    private static void RequireSchemaVersion(JsonElement root, string what)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new FormatException($"{what}: the JSON is not an object");
        if (!root.TryGetProperty("schemaVersion", out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int version))
            throw new FormatException($"{what}: 'schemaVersion' is missing");
        if (version != 2)
            throw new FormatException($"{what}: schemaVersion {version} is not supported (2 is)");
    }

    public static string? OptionalString(JsonElement e, string name, string where)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw new FormatException($"{where}: '{name}' is not a string");
    }

    public static IEnumerable<JsonElement> RequiredArray(JsonElement e, string name, string where)
    {
        if (!e.TryGetProperty(name, out var v)) throw new FormatException($"{where}: '{name}' is missing");
        if (v.ValueKind == JsonValueKind.Null) return [];
        return v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().ToList() : throw new FormatException($"{where}: '{name}' is not an array");
    }

    private static ImmutableArray<string>? OptionalStrings(JsonElement e, string name, string where)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array) throw new FormatException($"{where}: '{name}' is not an array of strings");
        return v.EnumerateArray()
            .Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : throw new FormatException($"{where}: '{name}' is not an array of strings"))
            .ToImmutableArray();
    }

    private static ImmutableDictionary<string, string> OptionalStringMap(JsonElement e, string name, string where)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Object) return ImmutableDictionary<string, string>.Empty;
        var builder = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var p in v.EnumerateObject())
            builder[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw new FormatException($"{where}: '{name}.{p.Name}' is not a string");
        return builder.ToImmutable();
    }

    private static ImmutableArray<string> OptionalKeys(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v.EnumerateObject().Select(p => p.Name).ToImmutableArray() : [];

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
