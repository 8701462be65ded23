using System.Collections.Immutable;

namespace Sandbox.Images.Oci;

/// <summary>An image index (or Docker manifest list): manifests, one per platform or tag.</summary>
/// <param name="MediaType">The index's media type (may be null in an OCI layout's index.json).</param>
/// <param name="Manifests">The manifests it lists.</param>
public sealed record ImageIndex(string? MediaType, ImmutableArray<Descriptor> Manifests)
{
    /// <summary>Parses index JSON; <see cref="FormatException"/> names what is wrong.</summary>
    public static ImageIndex Parse(ReadOnlySpan<byte> json) => OciJson.ParseIndex(json);
}
