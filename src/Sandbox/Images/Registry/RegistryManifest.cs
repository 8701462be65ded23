using Sandbox.Images.Oci;

namespace Sandbox.Images.Registry;

/// <summary>A manifest or index as a registry served it, its digest verified.</summary>
/// <param name="MediaType">Its media type (from Content-Type, or the document's own mediaType field).</param>
/// <param name="Digest">The digest of <paramref name="Bytes"/>.</param>
/// <param name="Bytes">The document as served.</param>
public sealed record RegistryManifest(string MediaType, Digest Digest, byte[] Bytes)
{
    /// <summary>A descriptor of this document.</summary>
    public Descriptor ToDescriptor() => new(MediaType, Digest, Bytes.LongLength);
}
