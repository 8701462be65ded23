namespace Sandbox.Images.Oci;

/// <summary>One image picked from a source: its manifest and config, both verified against their digests.</summary>
/// <param name="RefName">The name the source gives it (a tag or a full reference), if any.</param>
/// <param name="ManifestDigest">The manifest's digest: the image's identity.</param>
/// <param name="ManifestBytes">The manifest as stored.</param>
/// <param name="Manifest">The manifest.</param>
/// <param name="ConfigBytes">The config as stored.</param>
/// <param name="Config">The config.</param>
public sealed record SourceImage(string? RefName, Digest ManifestDigest, byte[] ManifestBytes, ImageManifest Manifest, byte[] ConfigBytes, ImageConfig Config);
