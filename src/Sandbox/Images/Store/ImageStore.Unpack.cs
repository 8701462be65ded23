using System.Collections.Concurrent;
using System.Collections.Immutable;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;
using Sandbox.Interop;

namespace Sandbox.Images.Store;

public sealed partial class ImageStore
{
    /// <summary>
    /// Unpacks every layer of <paramref name="reference"/> the store keeps only as a compressed blob (a pull with
    /// <see cref="LayerUnpacking.OnFirstUse"/>), so that its first run does not wait for it; returns the diff ids it
    /// unpacked (empty when every layer was unpacked already, e.g. by another process). Each layer is unpacked as an import
    /// unpacks it: under the layer's lock, into <c>tmp/</c>, verified against the blob's digest and size and the config's
    /// diff id, and renamed into <c>layers/</c> only when whole. A stored blob found damaged is removed (so the next pull
    /// downloads it again) and reported as an <see cref="ImageException"/> naming the layer; nothing of it is left.
    /// </summary>
    public Task<ImmutableArray<Digest>> UnpackAsync(ImageReference reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return Task.Run(() =>
        {
            using var lease = Lease(reference, cancellationToken);
            return lease.Unpacked;
        }, cancellationToken);
    }

    /// <summary>
    /// The image's layers, base first, unpacking those the store keeps only as blobs. Runs under the store lock (shared).
    /// The common case, every layer unpacked, reads nothing but the layer records (cached, one statx each).
    /// </summary>
    private ImmutableArray<StoredLayer> FindOrUnpackLayers(StoredImage image, CancellationToken cancellationToken, out ImmutableArray<Digest> unpacked)
    {
        var layers = new StoredLayer?[image.Layers.Length];
        bool complete = true;
        for (int i = 0; i < layers.Length; i++)
            complete &= (layers[i] = FindLayer(image.Layers[i])) is not null;
        unpacked = complete ? [] : UnpackMissingLayers(image, cancellationToken);
        var found = ImmutableArray.CreateBuilder<StoredLayer>(layers.Length);
        for (int i = 0; i < layers.Length; i++)
            found.Add(layers[i] ?? FindLayer(image.Layers[i]) ?? throw new ImageException("a layer of the image is missing from the store.", image.Reference.ToString(), image.Layers[i],
                "Import or pull the image again."));
        return found.MoveToImmutable();
    }

    /// <summary>
    /// Unpacks, from the stored compressed blobs the image's manifest names, every layer of the image that is not
    /// unpacked; several at once (one per core), each under its own lock.
    /// </summary>
    private ImmutableArray<Digest> UnpackMissingLayers(StoredImage image, CancellationToken cancellationToken)
    {
        string name = image.Reference.ToString();
        var manifest = ImageManifest.Parse(ReadStoredBlob(image.ManifestDigest, image.Reference, "manifest"));
        if (manifest.Layers.Length != image.Layers.Length)
            throw new ImageException($"the stored manifest names {manifest.Layers.Length} layer blob(s) but the image has {image.Layers.Length} layer(s).", name, image.ManifestDigest,
                "Remove the image (sandbox rmi) and pull or import it again.");
        var pending = image.Layers.Select((diffId, i) => (DiffId: diffId, Blob: manifest.Layers[i]))
            .Where(l => FindLayer(l.DiffId) is null)
            .DistinctBy(l => l.DiffId)
            .ToList();
        var unpacked = new ConcurrentQueue<Digest>();
        if (pending.Count == 1)
        {
            if (UnpackStoredLayer(name, pending[0].Blob, pending[0].DiffId, cancellationToken)) unpacked.Enqueue(pending[0].DiffId);
        }
        else
        {
            Parallel.ForEachAsync(
                pending,
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount), CancellationToken = cancellationToken },
                (layer, ct) =>
                {
                    if (UnpackStoredLayer(name, layer.Blob, layer.DiffId, ct)) unpacked.Enqueue(layer.DiffId);
                    return ValueTask.CompletedTask;
                }).GetAwaiter().GetResult();
        }
        return [.. image.Layers.Distinct().Where(unpacked.Contains)];
    }

    /// <summary>
    /// Unpacks one layer from its stored blob, as <see cref="EnsureLayer"/> unpacks a downloaded one; false if it was
    /// unpacked already (by another lease, in this process or another, while this one waited for the layer's lock).
    /// </summary>
    private bool UnpackStoredLayer(string image, Descriptor blob, Digest diffId, CancellationToken cancellationToken)
    {
        string final = Path.Combine(LayersDirectory, diffId.Encoded);
        if (Directory.Exists(final)) return false;
        using var layerLock = FileLock.Acquire(Path.Combine(LocksDirectory, diffId.Encoded + ".lock"), exclusive: true, cancellationToken);
        if (Directory.Exists(final)) return false;
        var compression = MediaTypes.LayerCompressionOf(blob.MediaType)
            ?? throw new ImageException($"the layer's media type '{blob.MediaType}' is not one this version unpacks (tar, tar+gzip, tar+zstd).", image, blob.Digest,
                "Convert the image (e.g. skopeo copy) to OCI or Docker layers.");
        string blobPath = BlobPath(blob.Digest);
        FileStream stored;
        try
        {
            stored = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        }
        catch (FileNotFoundException e)
        {
            throw new ImageException($"the layer {diffId} is neither unpacked nor kept as a compressed blob in the store.", image, blob.Digest,
                "Pull or import the image again.", e);
        }

        string temp = TemporaryPath(diffId.Encoded);
        try
        {
            Directory.CreateDirectory(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            string tree = Path.Combine(temp, "diff");
            Directory.CreateDirectory(tree, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            LayerApplyResult result;
            using (stored)
                result = LayerApplier.Apply(stored, new LayerBlob(blob.Digest, blob.Size, compression, diffId), tree, Options.Layers, cancellationToken);
            var layer = new StoredLayer(diffId, Path.Combine(final, "diff"), result.Digest, result.CompressedBytes, result.Entries, result.FileBytes,
                result.Notes.Length + result.MoreNotes, Options.Layers.XattrNamespace);
            File.WriteAllBytes(Path.Combine(temp, "layer.json"), StoreJson.WriteLayer(layer));
            Rename(temp, final, noReplace: true);
            return true;
        }
        catch (LayerException e) when (e.Kind is LayerProblem.DigestMismatch or LayerProblem.Malformed && !StoredBlobIsIntact(blobPath, blob))
        {
            RemoveTemporary(temp);
            // Its bytes are not the ones verified when it was stored: removed, so the next pull downloads it again.
            File.Delete(blobPath);
            throw new ImageException($"the stored compressed blob of the layer {diffId} is damaged (it no longer has the digest and size it was verified with when it was pulled), " +
                $"so the layer cannot be unpacked: {e.Problem}", image, blob.Digest, "The damaged blob was removed: pull the image again, then run it.", e);
        }
        catch
        {
            RemoveTemporary(temp);
            throw;
        }
    }

    /// <summary>True if the stored blob still has the descriptor's size and digest (read whole: only after an unpack failed).</summary>
    private static bool StoredBlobIsIntact(string path, Descriptor blob)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
            if (file.Length != blob.Size) return false;
            using var hash = blob.Digest.CreateHash();
            byte[] buffer = new byte[1 << 20];
            int n;
            while ((n = file.Read(buffer)) > 0) hash.AppendData(buffer, 0, n);
            return Digest.FromHash(blob.Digest.Algorithm, hash.GetHashAndReset()) == blob.Digest;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
