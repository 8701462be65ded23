using System.Collections.Immutable;

namespace Sandbox.Images.Store;

/// <summary>What the store takes on disk.</summary>
/// <param name="Root">The store's directory.</param>
/// <param name="Images">Per image: all its layers, and the part no other image shares.</param>
/// <param name="LayerCount">Layers in the store: unpacked, or (see <see cref="PackedLayerCount"/>) kept only as the compressed blob an image's manifest names.</param>
/// <param name="LayerBytes">Bytes of all layers: the unpacked trees and the compressed blobs they were unpacked from (kept for push).</param>
/// <param name="UnreferencedLayerBytes">Bytes of layers (trees and blobs) no image uses (what garbage collection frees).</param>
/// <param name="BlobBytes">Bytes of the other stored blobs: manifests, configs, and layer blobs no layer uses.</param>
public sealed record StoreDiskUsage(string Root, ImmutableArray<ImageDiskUsage> Images, int LayerCount, long LayerBytes, long UnreferencedLayerBytes, long BlobBytes)
{
    /// <summary>
    /// How many of the <see cref="LayerCount"/> layers are kept only as their compressed blob: pulled with
    /// <see cref="LayerUnpacking.OnFirstUse"/> and not yet unpacked by a run; their bytes are the blob's.
    /// </summary>
    public int PackedLayerCount { get; init; }

    /// <summary>Everything together.</summary>
    public long TotalBytes => LayerBytes + BlobBytes;
}

/// <summary>One image's share of the store.</summary>
/// <param name="Reference">The image.</param>
/// <param name="Bytes">All its layers (trees and compressed blobs).</param>
/// <param name="UniqueBytes">Its layers no other image uses (what removing it frees).</param>
public sealed record ImageDiskUsage(ImageReference Reference, long Bytes, long UniqueBytes);
