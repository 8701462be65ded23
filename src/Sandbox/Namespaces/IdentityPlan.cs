namespace Sandbox.Namespaces;

/// <summary>
/// Who the payload is, inside and outside the sandbox, and the id maps that make it so.
/// </summary>
/// <remarks>
/// Rootless, the only id the kernel lets an unprivileged host map is its own: the host user becomes the
/// sandbox user, and setgroups is denied. As root, the sandbox user is mapped to an unprivileged host id
/// (nobody by default), so even a payload that escaped would hold no host privilege, and the host's
/// supplementary groups are cleared. An image of root's store in a user namespace maps a whole block instead
/// (inside 0..65535 onto <see cref="HostIdRange"/>): its layers are mounted idmapped through the same maps, so the
/// image's owners (0:0 for most of it) are what the sandbox sees and what setting up its root needs.
/// </remarks>
internal sealed record IdentityPlan(
    uint InsideUid, uint InsideGid, uint OutsideUid, uint OutsideGid,
    string? UidMap, string? GidMap, bool Rootless, bool DenySetgroups, bool ClearGroups)
{
    /// <param name="spec">The validated spec.</param>
    /// <param name="hostEuid">The host's effective uid.</param>
    /// <param name="hostEgid">The host's effective gid.</param>
    /// <param name="imageIds">The block an idmapped image run maps (see <see cref="IdmapsImageLayers"/>), else ignored.</param>
    public static IdentityPlan For(SandboxSpec spec, uint hostEuid, uint hostEgid, HostIdRange? imageIds = null)
    {
        bool rootless = hostEuid != 0;
        bool userNs = spec.Namespaces.HasFlag(SandboxNamespaces.User);
        uint outsideUid = rootless ? hostEuid : spec.HostIdentity.Uid;
        uint outsideGid = rootless ? hostEgid : spec.HostIdentity.Gid;
        // On an image root without a user namespace the layers carry real ids: the sandbox user is the spec's
        // (the image's) user itself, as in any runtime.
        if (!userNs && !rootless && spec.Image is not null)
            (outsideUid, outsideGid) = (spec.User.Uid, spec.User.Gid);
        if (!userNs)
            return new IdentityPlan(outsideUid, outsideGid, outsideUid, outsideGid, null, null, rootless, false, !rootless);
        if (IdmapsImageLayers(spec, hostEuid))
        {
            var range = imageIds ?? HostIdRange.Default;
            return new IdentityPlan(
                spec.User.Uid, spec.User.Gid, range.FirstUid + spec.User.Uid, range.FirstGid + spec.User.Gid,
                range.MapLine(range.FirstUid), range.MapLine(range.FirstGid), Rootless: false, DenySetgroups: false, ClearGroups: true);
        }
        return new IdentityPlan(
            spec.User.Uid, spec.User.Gid, outsideUid, outsideGid,
            $"{spec.User.Uid} {outsideUid} 1\n", $"{spec.User.Gid} {outsideGid} 1\n",
            rootless, DenySetgroups: rootless, ClearGroups: !rootless);
    }

    /// <summary>
    /// Whether the sandbox runs on root's image layers (owned by the image's real ids, opaque directories marked in
    /// user.overlay.* too) in a user namespace on a root host: the launcher then mounts them idmapped.
    /// </summary>
    public static bool IdmapsImageLayers(SandboxSpec spec, uint hostEuid) =>
        hostEuid == 0 && spec.Namespaces.HasFlag(SandboxNamespaces.User) && spec.Image is { UserXattr: false, CarriesUserXattr: true };
}
