namespace Sandbox.Namespaces;

/// <summary>
/// Who the payload is, inside and outside the sandbox, and the id maps that make it so.
/// </summary>
/// <remarks>
/// Rootless, the only id the kernel lets an unprivileged host map is its own: the host user becomes the
/// sandbox user, and setgroups is denied. As root, the sandbox user is mapped to an unprivileged host id
/// (nobody by default), so even a payload that escaped would hold no host privilege, and the host's
/// supplementary groups are cleared.
/// </remarks>
internal sealed record IdentityPlan(
    uint InsideUid, uint InsideGid, uint OutsideUid, uint OutsideGid,
    string? UidMap, string? GidMap, bool Rootless, bool DenySetgroups, bool ClearGroups)
{
    public static IdentityPlan For(SandboxSpec spec, uint hostEuid, uint hostEgid)
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
        return new IdentityPlan(
            spec.User.Uid, spec.User.Gid, outsideUid, outsideGid,
            $"{spec.User.Uid} {outsideUid} 1\n", $"{spec.User.Gid} {outsideGid} 1\n",
            rootless, DenySetgroups: rootless, ClearGroups: !rootless);
    }
}
