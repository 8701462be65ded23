using Sandbox.Images.Oci;
using Sandbox.Images.Registry;
using Sandbox.Interop;

namespace Sandbox.Images.Store;

public sealed partial class ImageStore
{
    /// <summary>
    /// Blobs downloaded at once by a pull that does not unpack: the network and the registry, not the CPU, set the pace,
    /// so more than the cores (a loopback registry serves five layers fastest all at once).
    /// </summary>
    private const int ParallelBlobDownloads = 6;

    /// <summary>
    /// Pulls <paramref name="reference"/> from its registry into the store under that name: the manifest (for
    /// <paramref name="platform"/>, default this host, when the reference names an index), the config, and every layer
    /// not yet in the store, streamed, verified and unpacked as <see cref="ImportAsync(ImageSource, ImageReference, string?, Platform?, CancellationToken)"/> does (a failed or cancelled
    /// pull leaves no partial layer and no name).
    /// </summary>
    public Task<StoredImage> PullAsync(RegistryClient client, ImageReference reference, Platform? platform = null, IProgress<BlobProgress>? progress = null, CancellationToken cancellationToken = default) =>
        PullAsync(client, reference, new ImagePullOptions { Platform = platform }, progress, cancellationToken);

    /// <summary>
    /// Pulls <paramref name="reference"/> as <paramref name="options"/> say. With <see cref="LayerUnpacking.Eager"/> as
    /// <see cref="PullAsync(RegistryClient, ImageReference, Platform?, IProgress{BlobProgress}?, CancellationToken)"/> does.
    /// With <see cref="LayerUnpacking.OnFirstUse"/> every layer's compressed blob the store lacks is downloaded (several
    /// at once), its digest and size verified as it streams, written to <c>tmp/</c> and renamed into <c>blobs/</c> only when
    /// whole and verified; then the config, the manifest and the name are written. No layer is unpacked: the first
    /// <see cref="Lease"/>, commit or <see cref="UnpackAsync"/> does that (and verifies the diff ids). A failed or
    /// cancelled pull leaves no name and no partial blob (whole blobs it stored stay for the next pull, or until
    /// <see cref="CollectGarbage"/>).
    /// </summary>
    public async Task<StoredImage> PullAsync(RegistryClient client, ImageReference reference, ImagePullOptions options, IProgress<BlobProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.IsDefined(options.Unpacking))
            throw new ArgumentOutOfRangeException(nameof(options), options.Unpacking, "ImagePullOptions.Unpacking must be Eager or OnFirstUse.");
        using var source = await RegistryImageSource.OpenAsync(client, reference, progress, cancellationToken).ConfigureAwait(false);
        if (options.Unpacking == LayerUnpacking.Eager)
            return await ImportAsync(source, reference, null, options.Platform, cancellationToken).ConfigureAwait(false);

        using var storeLock = await Task.Run(() => FileLock.Acquire(Path.Combine(Root, LockFile), exclusive: false, cancellationToken), cancellationToken).ConfigureAwait(false);
        var image = await Task.Run(() => source.Resolve(null, options.Platform), cancellationToken).ConfigureAwait(false);
        RequireUnpackableLayers(source, image);
        await Parallel.ForEachAsync(
            image.Manifest.Layers.DistinctBy(l => l.Digest).Where(l => !HasBlob(l.Digest)),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelBlobDownloads, CancellationToken = cancellationToken },
            (layer, ct) => new ValueTask(StoreDownloadedBlobAsync(source, layer, ct))).ConfigureAwait(false);
        return StoreImage(image, reference);
    }

    /// <summary>
    /// Downloads one compressed layer blob into <c>tmp/</c> (the registry client's stream verifies the digest and the size
    /// of every byte, and throws at the end if either is wrong) and renames it into <c>blobs/</c>. Another pull storing
    /// the same blob at once is harmless: both files are the same verified bytes, and the rename is atomic.
    /// </summary>
    private async Task StoreDownloadedBlobAsync(RegistryImageSource source, Descriptor descriptor, CancellationToken cancellationToken)
    {
        const int CopyBufferBytes = 1 << 20;
        string temp = TemporaryPath(descriptor.Digest.Encoded);
        try
        {
            await using (var blob = await source.OpenVerifiedBlobAsync(descriptor, cancellationToken).ConfigureAwait(false))
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                await blob.CopyToAsync(file, CopyBufferBytes, cancellationToken).ConfigureAwait(false);
                if (file.Length != descriptor.Size) // the stream checked it; a second look costs nothing
                    throw new ImageException($"the layer blob has {file.Length} bytes, not the {descriptor.Size} the manifest gives.", source.Description, descriptor.Digest,
                        "The download was cut short or the registry is broken: pull again.");
            }
            Rename(temp, BlobPath(descriptor.Digest), noReplace: false);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
