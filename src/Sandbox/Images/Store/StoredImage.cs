using System.Collections.Immutable;
using Sandbox.Images.Oci;

namespace Sandbox.Images.Store;

/// <summary>An image in the store: its name, manifest digest, config and layers (base first).</summary>
/// <param name="Reference">The name it was stored under.</param>
/// <param name="ManifestDigest">The manifest's digest: the image's identity.</param>
/// <param name="ConfigDigest">The config's digest.</param>
/// <param name="Config">What to run, and the platform.</param>
/// <param name="Layers">The layers' diff ids, base first.</param>
/// <param name="Imported">When it was stored.</param>
public sealed record StoredImage(ImageReference Reference, Digest ManifestDigest, Digest ConfigDigest, ImageConfig Config, ImmutableArray<Digest> Layers, DateTimeOffset Imported);
