namespace Sandbox.Images.Store;

/// <summary>When a pulled layer's compressed blob is unpacked into the tree an overlay mounts.</summary>
public enum LayerUnpacking
{
    /// <summary>
    /// During the pull: every layer is downloaded, decompressed, unpacked and its diff id verified before the pull
    /// returns, so the first run starts at once. The default.
    /// </summary>
    Eager,

    /// <summary>
    /// The pull downloads every compressed blob, verifies its digest and size, and stores it (as <c>skopeo copy</c> to
    /// an OCI layout does); each layer is unpacked, and its diff id verified, the first time something needs its tree:
    /// <see cref="ImageStore.Lease"/> (and so a run on the image), a commit onto it, or
    /// <see cref="ImageStore.UnpackAsync"/> ahead of the first run. A push needs only the blobs and unpacks nothing.
    /// </summary>
    OnFirstUse,
}
