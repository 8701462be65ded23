using System.Security.Cryptography;
using Sandbox.Images.Oci;

namespace Sandbox.Images.Store;

public sealed partial class ImageStore
{
    /// <summary>Where the blob <paramref name="digest"/> (a manifest, a config or a compressed layer) is kept.</summary>
    internal string BlobPath(Digest digest) => Path.Combine(BlobsDirectory, digest.Encoded);

    /// <summary>True if the store keeps the blob <paramref name="digest"/>.</summary>
    public bool HasBlob(Digest digest) => File.Exists(BlobPath(digest));

    /// <summary>
    /// Copies a layer's compressed blob into <c>blobs/</c> when its tree is unpacked already (the same tar under
    /// another compression, or a layer stored before the store kept blobs): hashed and counted as it is copied, and
    /// renamed into place only when its size and digest are the descriptor's. Called under the layer's lock.
    /// </summary>
    private void KeepBlob(ImageSource source, Descriptor descriptor, CancellationToken cancellationToken)
    {
        string temp = Path.Combine(TempDirectory, $"{descriptor.Digest.Encoded}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}");
        try
        {
            using var hash = descriptor.Digest.CreateHash();
            long length = 0;
            using (var blob = source.OpenBlob(descriptor))
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 256 * 1024))
            {
                var buffer = new byte[256 * 1024];
                int n;
                while ((n = blob.Read(buffer)) > 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    length += n;
                    if (length > descriptor.Size)
                        throw new ImageException($"the layer blob is longer than the {descriptor.Size} bytes the manifest gives.", source.Description, descriptor.Digest,
                            "The blob is corrupt or not the one the manifest names: import or pull it again from a source you trust.");
                    hash.AppendData(buffer, 0, n);
                    file.Write(buffer, 0, n);
                }
            }
            var actual = Digest.FromHash(descriptor.Digest.Algorithm, hash.GetHashAndReset());
            if (length != descriptor.Size || actual != descriptor.Digest)
                throw new ImageException($"the layer blob has {length} bytes and the digest {actual}, not the {descriptor.Size} bytes and the digest the manifest gives.",
                    source.Description, descriptor.Digest, "The blob is corrupt or was tampered with: import or pull it again from a source you trust.");
            Rename(temp, BlobPath(descriptor.Digest), noReplace: false);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// The image's stored manifest (which names its config and layer blobs), or null if it is not in the store or is
    /// unreadable (garbage collection then keeps the blobs its layers' records name).
    /// </summary>
    private ImageManifest? ReadStoredManifest(StoredImage image)
    {
        try
        {
            return ImageManifest.Parse(File.ReadAllBytes(BlobPath(image.ManifestDigest)));
        }
        catch (Exception e) when (e is IOException or FormatException or System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
