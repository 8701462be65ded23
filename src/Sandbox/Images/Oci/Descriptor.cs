using System.Collections.Immutable;

namespace Sandbox.Images.Oci;

/// <summary>A reference to a blob: its media type, digest and size, and what the index says about it.</summary>
/// <param name="MediaType">The blob's media type.</param>
/// <param name="Digest">The digest of its bytes.</param>
/// <param name="Size">Its size in bytes.</param>
public sealed record Descriptor(string MediaType, Digest Digest, long Size)
{
    /// <summary>The platform, in an index's manifest list.</summary>
    public Platform? Platform { get; init; }

    /// <summary>Annotations (e.g. <c>org.opencontainers.image.ref.name</c> for a tag in an OCI layout).</summary>
    public ImmutableDictionary<string, string> Annotations { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>The annotation naming the tag in an OCI layout's index.</summary>
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    /// <summary>The tag this descriptor carries in an OCI layout index, if any.</summary>
    public string? RefName => Annotations.TryGetValue(RefNameAnnotation, out var name) ? name : null;
}
