using System.Collections.Immutable;
using Sandbox.Images.Oci;
using Sandbox.Interop;

namespace Sandbox.Images.Store;

/// <summary>
/// An image held for a run: while it is not disposed, garbage collection (in any process) waits, so its layer
/// directories stay. <see cref="LowerDirectories"/> is overlayfs' lowerdir order: the top layer first.
/// </summary>
public sealed class ImageLease : IDisposable
{
    private readonly FileLock _lock;

    internal ImageLease(StoredImage image, ImmutableArray<StoredLayer> layers, FileLock storeLock)
    {
        Image = image;
        Layers = layers;
        _lock = storeLock;
    }

    /// <summary>The image.</summary>
    public StoredImage Image { get; }

    /// <summary>Its layers, base first.</summary>
    public ImmutableArray<StoredLayer> Layers { get; }

    /// <summary>
    /// The layers (diff ids) this lease unpacked because the store kept only their compressed blobs (a pull with
    /// <see cref="LayerUnpacking.OnFirstUse"/>); empty when every layer was unpacked already.
    /// </summary>
    public ImmutableArray<Digest> Unpacked { get; init; } = [];

    /// <summary>The layer directories, top first, as overlayfs' lowerdir lists them.</summary>
    public ImmutableArray<string> LowerDirectories => [.. Layers.Reverse().Select(l => l.Directory)];

    /// <summary>Releases the hold.</summary>
    public void Dispose() => _lock.Dispose();
}
