using System.Collections.Immutable;

namespace Sandbox.Images.Oci;

/// <summary>An image manifest: the config blob and the layers, lowest first.</summary>
/// <param name="MediaType">OCI or Docker manifest media type.</param>
/// <param name="Config">The config blob.</param>
/// <param name="Layers">The layer blobs, in order of application (base first).</param>
public sealed record ImageManifest(string MediaType, Descriptor Config, ImmutableArray<Descriptor> Layers)
{
    /// <summary>Parses manifest JSON; <see cref="FormatException"/> names what is wrong.</summary>
    public static ImageManifest Parse(ReadOnlySpan<byte> json) => OciJson.ParseManifest(json);
}
