namespace Sandbox.Images.Layers;

/// <summary>Where overlayfs reads its xattrs (opaque directories): trusted.* for root, user.* with the userxattr mount option.</summary>
public enum OverlayXattrNamespace
{
    /// <summary><c>trusted.overlay.opaque</c> (needs CAP_SYS_ADMIN to write; a root mount reads it).</summary>
    Trusted,
    /// <summary><c>user.overlay.opaque</c>, for a rootless mount with <c>userxattr</c> (Linux ≥ 5.11).</summary>
    User,
    /// <summary>
    /// Both <c>trusted.overlay.opaque</c> and <c>user.overlay.opaque</c> (root unpacks): a root mount reads the first, an
    /// overlay mounted with <c>userxattr</c> in a sandbox's user namespace over idmapped layers the second.
    /// </summary>
    TrustedAndUser,
}
