using System.Collections.Concurrent;
using System.Collections.Immutable;
using Sandbox.Images.Oci;

namespace Sandbox.Images.Registry;

/// <summary>
/// A registry repository as an <see cref="ImageSource"/>: its index holds the one manifest (or index) the
/// reference names, so <see cref="ImageSource.Resolve"/> picks the platform and <see cref="Store.ImageStore.ImportAsync(ImageSource, ImageReference, string?, Platform?, CancellationToken)"/>
/// unpacks, verifies and stores it as it does any source. Manifests are fetched from <c>/manifests/</c>, other blobs
/// streamed from <c>/blobs/</c>, verified as they stream.
/// </summary>
public sealed class RegistryImageSource : ImageSource
{
    private readonly RegistryClient _client;
    private readonly IProgress<BlobProgress>? _progress;
    private readonly CancellationToken _cancellationToken;
    private readonly ConcurrentDictionary<Digest, byte[]> _documents = new();

    private RegistryImageSource(RegistryClient client, ImageReference reference, RegistryManifest root, IProgress<BlobProgress>? progress, CancellationToken cancellationToken)
    {
        _client = client;
        Reference = reference;
        Root = root;
        _progress = progress;
        _cancellationToken = cancellationToken;
        _documents[root.Digest] = root.Bytes;
        Index = new ImageIndex(MediaTypes.OciIndex, [root.ToDescriptor() with
        {
            Annotations = ImmutableDictionary<string, string>.Empty.Add(Descriptor.RefNameAnnotation, reference.ToString()),
        }]);
    }

    /// <summary>The reference pulled.</summary>
    public ImageReference Reference { get; }

    /// <summary>The manifest or index the reference names, as the registry served it.</summary>
    public RegistryManifest Root { get; }

    /// <inheritdoc/>
    public override string Description => Reference.ToString();

    /// <inheritdoc/>
    public override ImageIndex Index { get; }

    /// <summary>
    /// Fetches the manifest (or index) <paramref name="reference"/> names. Blobs are fetched later, when read;
    /// <paramref name="cancellationToken"/> cancels those downloads too.
    /// </summary>
    public static async Task<RegistryImageSource> OpenAsync(RegistryClient client, ImageReference reference, IProgress<BlobProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(reference);
        var root = await client.GetManifestAsync(reference, cancellationToken).ConfigureAwait(false);
        return new RegistryImageSource(client, reference, root, progress, cancellationToken);
    }

    /// <summary>
    /// Starts downloading a blob that is not a manifest: a stream that verifies the digest and the size of every byte
    /// as it is read (and throws a <see cref="RegistryException"/> naming the blob at the end if either is wrong), and
    /// reports progress. Used by pulls that store the compressed blobs without unpacking them.
    /// </summary>
    internal Task<Stream> OpenVerifiedBlobAsync(Descriptor descriptor, CancellationToken cancellationToken) =>
        _client.OpenBlobAsync(Reference, descriptor, _progress, cancellationToken);

    /// <inheritdoc/>
    public override Stream OpenBlob(Descriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (_documents.TryGetValue(descriptor.Digest, out var cached))
            return new MemoryStream(cached, writable: false);
        if (MediaTypes.IsIndex(descriptor.MediaType) || MediaTypes.IsManifest(descriptor.MediaType))
        {
            // The source's API is synchronous (the store unpacks on worker threads); the request itself is async.
            var manifest = _client.GetManifestAsync(Reference, descriptor.Digest, _cancellationToken).GetAwaiter().GetResult();
            _documents[manifest.Digest] = manifest.Bytes;
            return new MemoryStream(manifest.Bytes, writable: false);
        }
        return _client.OpenBlobAsync(Reference, descriptor, _progress, _cancellationToken).GetAwaiter().GetResult();
    }
}
