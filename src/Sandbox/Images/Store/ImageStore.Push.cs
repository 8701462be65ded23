using System.Collections.Concurrent;
using Sandbox.Images.Oci;
using Sandbox.Images.Registry;
using Sandbox.Interop;

namespace Sandbox.Images.Store;

public sealed partial class ImageStore
{
    private const int ParallelBlobUploads = 3;

    /// <summary>
    /// Pushes the stored image <paramref name="source"/> to <paramref name="destination"/> (null: to
    /// <paramref name="source"/> itself): its layers' compressed blobs exactly as they were pulled or imported (those the
    /// repository has already are skipped; from another repository of the same registry they are mounted), then the
    /// config, then the stored manifest bytes unchanged, so the pushed image has the stored image's digest. Holds the
    /// store shared, so no garbage collection removes a blob under the push.
    /// </summary>
    public async Task<ImagePushResult> PushAsync(RegistryClient client, ImageReference source, ImageReference? destination = null, IProgress<BlobProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(source);
        destination ??= source;
        using var storeLock = await Task.Run(() => FileLock.Acquire(Path.Combine(Root, LockFile), exclusive: false, cancellationToken), cancellationToken).ConfigureAwait(false);
        var image = FindImage(source)
            ?? throw new ImageException("the image is not in the store.", source.ToString(), null, "Pull, import or commit it first ('sandbox images' lists what the store has).");
        byte[] manifestBytes = ReadStoredBlob(image.ManifestDigest, source, "manifest");
        var manifest = ImageManifest.Parse(manifestBytes);

        // Every blob must be here before anything is sent: a push fails whole, up front, not half way.
        foreach (var layer in manifest.Layers)
            if (!HasBlob(layer.Digest))
                throw new ImageException("the layer's compressed blob is not in the store (it was stored before the store kept layer blobs, or was removed).",
                    source.ToString(), layer.Digest,
                    "Pull or import the image again (sandbox pull / sandbox import): the store then keeps every layer's blob, and the image can be pushed.");
        if (!HasBlob(manifest.Config.Digest))
            throw new ImageException("the image's config is not in the store.", source.ToString(), manifest.Config.Digest, "Pull or import the image again.");

        var mountFrom = source.Registry.Equals(destination.Registry, StringComparison.OrdinalIgnoreCase) && source.Repository != destination.Repository ? source : null;
        var outcomes = new ConcurrentDictionary<Digest, BlobPushOutcome>();
        await Parallel.ForEachAsync(
            manifest.Layers.DistinctBy(l => l.Digest),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelBlobUploads, CancellationToken = cancellationToken },
            async (layer, ct) => outcomes[layer.Digest] = await client.PushBlobAsync(destination, layer, () => OpenStoredBlob(layer.Digest), mountFrom, progress, ct).ConfigureAwait(false))
            .ConfigureAwait(false);
        var config = manifest.Config;
        outcomes[config.Digest] = await client.PushBlobAsync(destination, config, () => OpenStoredBlob(config.Digest), mountFrom, progress, cancellationToken).ConfigureAwait(false);

        var pushed = await client.PutManifestAsync(destination, manifest.MediaType, manifestBytes, cancellationToken).ConfigureAwait(false);
        return new ImagePushResult(destination, pushed, [.. manifest.Layers.Append(config).Select(d => new PushedBlob(d, outcomes[d.Digest]))]);
    }

    private Stream OpenStoredBlob(Digest digest) =>
        new FileStream(BlobPath(digest), FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);

    /// <summary>A small stored blob (a manifest), checked against its digest.</summary>
    private byte[] ReadStoredBlob(Digest digest, ImageReference image, string what)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(BlobPath(digest));
        }
        catch (FileNotFoundException e)
        {
            throw new ImageException($"the image's {what} is not in the store.", image.ToString(), digest, "Pull or import the image again.", e);
        }
        if (Digest.Sha256Of(bytes) is var actual && digest.Algorithm == "sha256" && actual != digest)
            throw new ImageException($"the store's copy of the {what} has the digest {actual}: it is damaged.", image.ToString(), digest, "Remove the image (sandbox rmi) and pull or import it again.");
        return bytes;
    }
}
