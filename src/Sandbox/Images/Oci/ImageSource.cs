using System.Collections.Immutable;
using System.Formats.Tar;

namespace Sandbox.Images.Oci;

/// <summary>
/// Where images are read from: an OCI image layout directory, an OCI archive (a tar of a layout) or a
/// <c>docker save</c> archive. Gives the top-level index and the blobs; <see cref="Resolve"/> picks one image
/// and reads its manifest and config, verifying their digests.
/// </summary>
public abstract class ImageSource : IDisposable
{
    private const long MaxDocumentBytes = 8 << 20;

    /// <summary>What the source is, for messages: its path.</summary>
    public abstract string Description { get; }

    /// <summary>The top-level index: every image (or platform list) the source holds, with its ref name.</summary>
    public abstract ImageIndex Index { get; }

    /// <summary>Opens a blob for reading. Its bytes are not verified here: the reader verifies as it reads.</summary>
    public abstract Stream OpenBlob(Descriptor descriptor);

    /// <summary>
    /// Opens <paramref name="path"/>: a directory with an <c>oci-layout</c> file, any other directory (a root file
    /// system, <see cref="DirectorySource"/>), or a tar holding a layout (an OCI archive) or a <c>manifest.json</c> (docker save).
    /// </summary>
    public static ImageSource Open(string path)
    {
        if (Directory.Exists(path))
        {
            if (File.Exists(Path.Combine(path, OciLayoutSource.LayoutFile)))
                return new OciLayoutSource(path);
            if (File.Exists(Path.Combine(path, "index.json")) || Directory.Exists(Path.Combine(path, "blobs")))
                throw new ImageException($"the directory has index.json or blobs/ but no '{OciLayoutSource.LayoutFile}' file: a broken OCI image layout.", path, null,
                    "Copy the layout again (skopeo copy ... oci:DIR), or point at the root file system itself.");
            return new DirectorySource(path);
        }
        if (!File.Exists(path))
            throw new ImageException("there is no such file or directory.", path, null, "Check the path.");
        var archive = TarArchiveIndex.Read(path);
        if (archive.Contains(OciLayoutSource.LayoutFile) && archive.Contains("index.json"))
            return new OciArchiveSource(path, archive);
        if (archive.Contains(DockerArchiveSource.ManifestFile))
            return new DockerArchiveSource(path, archive);
        throw new ImageException($"the tar holds neither '{OciLayoutSource.LayoutFile}' and 'index.json' (an OCI archive) nor '{DockerArchiveSource.ManifestFile}' (docker save).", path, null,
            "Point at an archive written by docker save, skopeo copy ... oci-archive:FILE or umoci.");
    }

    /// <summary>
    /// Picks the image named <paramref name="name"/> (its ref name or tag; null when the source holds exactly one)
    /// for <paramref name="platform"/> (default: this host), and reads its manifest and config.
    /// </summary>
    public SourceImage Resolve(string? name = null, Platform? platform = null)
    {
        platform ??= Platform.Host;
        var candidates = name is null ? Index.Manifests : Index.Manifests.Where(m => NameMatches(m.RefName, name)).ToImmutableArray();
        if (candidates.IsEmpty)
            throw new ImageException(name is null ? "the source holds no image." : $"the source holds no image named '{name}'.", Description, null,
                $"Name one of: {DescribeNames()}.");
        var names = candidates.Select(c => c.RefName).Where(n => n is not null).Distinct().ToList();
        if (name is null && names.Count > 1)
            throw new ImageException("the source holds several images.", Description, null, $"Name one of: {DescribeNames()}.");
        return ResolveDescriptor(candidates, platform, depth: 0, candidates.Select(c => c.RefName).FirstOrDefault(n => n is not null));
    }

    private SourceImage ResolveDescriptor(ImmutableArray<Descriptor> candidates, Platform platform, int depth, string? refName)
    {
        if (depth > 4)
            throw new ImageException("indexes are nested more than 4 deep.", Description, null, "The image is broken: rebuild it.");
        var matching = candidates.Where(c => c.Platform is null || platform.Accepts(c.Platform)).ToList();
        if (matching.Count == 0)
            throw new ImageException($"the image has no manifest for {platform} (it has {string.Join(", ", candidates.Select(c => c.Platform?.ToString() ?? "?"))}).",
                Description, null, "Use an image built for this platform.");
        var chosen = matching.FirstOrDefault(c => c.Platform is not null) ?? matching[0];
        byte[] bytes = ReadDocument(chosen);
        if (MediaTypes.IsIndex(chosen.MediaType))
        {
            var nested = Parse(() => ImageIndex.Parse(bytes), chosen);
            return ResolveDescriptor(nested.Manifests, platform, depth + 1, refName);
        }
        if (!MediaTypes.IsManifest(chosen.MediaType))
            throw new ImageException($"the descriptor's media type '{chosen.MediaType}' is neither a manifest nor an index.", Description, chosen.Digest,
                "The image is broken or of a kind this version does not read.");
        var manifest = Parse(() => ImageManifest.Parse(bytes), chosen);
        byte[] configBytes = ReadDocument(manifest.Config);
        var config = Parse(() => ImageConfig.Parse(configBytes), manifest.Config);
        if (config.DiffIds.Length != manifest.Layers.Length)
            throw new ImageException($"the manifest lists {manifest.Layers.Length} layers but the config {config.DiffIds.Length} diff ids.", Description, chosen.Digest,
                "The image is broken: rebuild it.");
        if (!platform.Accepts(config.Platform))
            throw new ImageException($"the image is for {config.Platform}, not {platform}.", Description, manifest.Config.Digest, "Use an image built for this platform.");
        return new SourceImage(refName, chosen.Digest, bytes, manifest, configBytes, config);
    }

    /// <summary>Reads a small JSON blob whole, checking its size and digest.</summary>
    protected byte[] ReadDocument(Descriptor descriptor)
    {
        if (descriptor.Size > MaxDocumentBytes)
            throw new ImageException($"the document is {descriptor.Size} bytes, more than the {MaxDocumentBytes} allowed.", Description, descriptor.Digest, "The image is broken or hostile.");
        using var stream = OpenBlob(descriptor);
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = stream.Read(chunk)) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > descriptor.Size) break;
        }
        byte[] bytes = buffer.ToArray();
        if (bytes.Length != descriptor.Size)
            throw new ImageException($"the blob has {(bytes.Length > descriptor.Size ? "more than " : "")}{bytes.Length} bytes, not the {descriptor.Size} its descriptor gives.", Description, descriptor.Digest,
                "The image is corrupt: copy it again.");
        var actual = Digest.FromHash(descriptor.Digest.Algorithm, descriptor.Digest.Algorithm == "sha512"
            ? System.Security.Cryptography.SHA512.HashData(bytes) : System.Security.Cryptography.SHA256.HashData(bytes));
        if (actual != descriptor.Digest)
            throw new ImageException($"the blob's digest is {actual}.", Description, descriptor.Digest, "The image is corrupt or was tampered with: copy it again from a source you trust.");
        return bytes;
    }

    private T Parse<T>(Func<T> parse, Descriptor descriptor)
    {
        try
        {
            return parse();
        }
        catch (FormatException e)
        {
            throw new ImageException($"{e.Message}.", Description, descriptor.Digest, "The image is broken: rebuild it.", e);
        }
    }

    private string DescribeNames()
    {
        var names = Index.Manifests.Select(m => m.RefName).Where(n => n is not null).Distinct().ToList();
        return names.Count == 0 ? "(no image carries a name)" : string.Join(", ", names);
    }

    /// <summary>True if the ref name <paramref name="refName"/> is what the user asked for: the same text, the same reference, or its tag.</summary>
    internal static bool NameMatches(string? refName, string name)
    {
        if (refName is null) return false;
        if (refName == name) return true;
        if (ImageReference.TryParse(refName, out var a, out _) && ImageReference.TryParse(name, out var b, out _) && a == b) return true;
        int colon = refName.LastIndexOf(':');
        return colon > refName.LastIndexOf('/') && refName[(colon + 1)..] == name;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the source holds open.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
