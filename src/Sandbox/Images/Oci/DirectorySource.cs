using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;

namespace Sandbox.Images.Oci;

/// <summary>
/// A plain directory taken as a root file system: a one-layer image whose layer is the directory written as a
/// tar (entries in ordinal order with their modes, owners and times, symlinks as symlinks, never followed), to a
/// temporary file that is deleted with the source. Its config names the host's platform and nothing to run.
/// </summary>
public sealed class DirectorySource : ImageSource
{
    /// <summary>The ref name the one image carries.</summary>
    public const string RefName = "latest";

    private readonly string _tarPath;
    private readonly Dictionary<Digest, byte[]> _documents = [];
    private readonly Digest _layerDigest;

    /// <summary>Writes the directory at <paramref name="path"/> as a layer.</summary>
    public DirectorySource(string path)
    {
        Description = Path.GetFullPath(path);
        if (!Directory.Exists(Description))
            throw new ImageException("there is no such directory.", Description, null, "Check the path.");
        _tarPath = Path.Combine(Path.GetTempPath(), $"sandbox-directory-layer-{Guid.NewGuid():N}.tar");
        try
        {
            using (var file = new FileStream(_tarPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            using (var writer = new TarWriter(file, TarEntryFormat.Pax, leaveOpen: true))
            using (var root = Interop.ConfinedDirectory.Open(Description))
                WriteTree(writer, root, "");
            using (var file = File.OpenRead(_tarPath))
                _layerDigest = Digest.FromHash("sha256", SHA256.HashData(file));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(_tarPath);
            throw new ImageException($"the directory cannot be read whole: {e.Message}", Description, null, "Make every file in it readable by this process.", e);
        }
        long size = new FileInfo(_tarPath).Length;
        string config = $"{{\"architecture\":\"{Platform.Host.Architecture}\",\"os\":\"linux\",\"config\":{{}},\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{_layerDigest}\"]}}}}";
        var configDigest = Add(config);
        string manifest = $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{configDigest}\",\"size\":{Encoding.UTF8.GetByteCount(config)}}}," +
            $"\"layers\":[{{\"mediaType\":\"{MediaTypes.OciLayerTar}\",\"digest\":\"{_layerDigest}\",\"size\":{size}}}]}}";
        var manifestDigest = Add(manifest);
        Index = new ImageIndex(MediaTypes.OciIndex,
        [
            new Descriptor(MediaTypes.OciManifest, manifestDigest, Encoding.UTF8.GetByteCount(manifest))
            {
                Annotations = System.Collections.Immutable.ImmutableDictionary<string, string>.Empty.Add(Descriptor.RefNameAnnotation, RefName),
            },
        ]);
    }

    /// <inheritdoc/>
    public override string Description { get; }

    /// <inheritdoc/>
    public override ImageIndex Index { get; }

    /// <inheritdoc/>
    public override Stream OpenBlob(Descriptor descriptor)
    {
        if (_documents.TryGetValue(descriptor.Digest, out var bytes)) return new MemoryStream(bytes, writable: false);
        if (descriptor.Digest == _layerDigest) return new FileStream(_tarPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        throw new ImageException("the directory source has no such blob.", Description, descriptor.Digest, "Resolve the image from this source first.");
    }

    private Digest Add(string json)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        var digest = Digest.Sha256Of(bytes);
        _documents[digest] = bytes;
        return digest;
    }

    /// <summary>The tree in ordinal order, never following a symlink; sockets (which a tar cannot hold) are left out.</summary>
    private static void WriteTree(TarWriter writer, Interop.ConfinedDirectory root, string relative)
    {
        foreach (var name in root.List(relative).Order(StringComparer.Ordinal))
        {
            string child = relative.Length == 0 ? name : relative + "/" + name;
            if (root.TryStatus(child) is not { } status || status.Type == SocketType) continue;
            writer.WriteEntry(Path.Combine(root.Path, child), status.IsDirectory ? child + "/" : child);
            if (status.IsDirectory) WriteTree(writer, root, child);
        }
    }

    private const uint SocketType = 0xC000;

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        try
        {
            File.Delete(_tarPath);
        }
        catch (IOException)
        {
        }
        base.Dispose(disposing);
    }
}
