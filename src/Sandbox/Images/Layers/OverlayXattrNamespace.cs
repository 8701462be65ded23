namespace Sandbox.Images.Layers;

/// <summary>Where overlayfs reads its xattrs (opaque directories): trusted.* for root, user.* with the userxattr mount option.</summary>
public enum OverlayXattrNamespace
{
    /// <summary><c>trusted.overlay.opaque</c> (needs CAP_SYS_ADMIN to write; a root mount reads it).</summary>
    Trusted,
    /// <summary><c>user.overlay.opaque</c>, for a rootless mount with <c>userxattr</c> (Linux ≥ 5.11).</summary>
    User,
}
