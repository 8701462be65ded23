using System.Collections.Immutable;
using Sandbox.Images.Oci;

namespace Sandbox.Images.Store;

/// <summary>What a garbage collection removed.</summary>
/// <param name="RemovedLayers">Layers no image used.</param>
/// <param name="RemovedBlobs">Manifests, configs and compressed layer blobs no image used.</param>
/// <param name="RemovedTemporaries">Leftovers of interrupted imports.</param>
/// <param name="FreedBytes">Bytes freed (layers as recorded, blobs by size).</param>
public sealed record GarbageCollectionResult(ImmutableArray<Digest> RemovedLayers, ImmutableArray<Digest> RemovedBlobs, int RemovedTemporaries, long FreedBytes)
{
    /// <summary>Writable layers (<c>containers/ID</c>) whose owner went away without removing them.</summary>
    public int RemovedWritableLayers { get; init; }
}
