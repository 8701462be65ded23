using Sandbox.Images.Oci;

namespace Sandbox.Images.Store;

/// <summary>A layer unpacked in the store, shared by every image that has it.</summary>
/// <param name="DiffId">Its identity: the uncompressed tar's digest.</param>
/// <param name="Directory">The unpacked tree (an overlay lowerdir).</param>
/// <param name="SourceDigest">The blob it was unpacked from.</param>
/// <param name="CompressedBytes">Bytes of that blob.</param>
/// <param name="Entries">Tar entries.</param>
/// <param name="FileBytes">Bytes of file content.</param>
/// <param name="Notes">How many entries were left out or changed (devices when rootless, refused xattrs).</param>
/// <param name="XattrNamespace">The overlay xattr namespace its opaque directories use.</param>
public sealed record StoredLayer(Digest DiffId, string Directory, Digest SourceDigest, long CompressedBytes, int Entries, long FileBytes, int Notes, Layers.OverlayXattrNamespace XattrNamespace);
