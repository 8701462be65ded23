using System.Collections.Immutable;
using Sandbox.Images.Oci;
using Sandbox.Images.Registry;

namespace Sandbox.Images.Store;

/// <summary>What a push did.</summary>
/// <param name="Destination">Where the image was pushed.</param>
/// <param name="ManifestDigest">The digest of the manifest put there: the same as the stored image's.</param>
/// <param name="Blobs">Every layer (base first), then the config, each with what pushing it took.</param>
public sealed record ImagePushResult(ImageReference Destination, Digest ManifestDigest, ImmutableArray<PushedBlob> Blobs)
{
    /// <summary>Bytes uploaded (blobs already there or mounted cost nothing).</summary>
    public long UploadedBytes => Blobs.Where(b => b.Outcome == BlobPushOutcome.Uploaded).Sum(b => b.Descriptor.Size);
}
