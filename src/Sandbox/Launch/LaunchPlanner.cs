using Sandbox.Interop;
using Sandbox.Namespaces;
using Sandbox.RootFs;

namespace Sandbox.Launch;

/// <summary>Turns a validated <see cref="SandboxSpec"/> into the <see cref="LaunchPlan"/> the launcher carries out, and says what isolation it applies.</summary>
internal sealed class LaunchPlanner(IHostFileSystem fs)
{
    /// <summary>Where the new root's tmpfs is mounted before pivot_root, in the sandbox's private mount namespace only.</summary>
    public static readonly string[] StagingCandidates = ["/tmp", "/mnt", "/run", "/var/tmp"];

    public (LaunchPlan Plan, AppliedIsolation Isolation) Plan(SandboxSpec spec, uint hostEuid, uint hostEgid)
    {
        // Root's image layers in a user namespace: the spec's block of host ids, else root's subordinate ids, else the default.
        bool idmap = IdentityPlan.IdmapsImageLayers(spec, hostEuid);
        var imageIds = idmap ? spec.HostIdRange ?? HostIdRange.FromSubordinateIds(fs.TryReadText("/etc/subuid"), fs.TryReadText("/etc/subgid")) ?? HostIdRange.Default : null;
        var identity = IdentityPlan.For(spec, hostEuid, hostEgid, imageIds);
        var ns = spec.Namespaces;
        string staging = StagingCandidates.FirstOrDefault(p => fs.GetKind(p) == HostFileKind.Directory)
            ?? throw new SandboxUnsupportedException(
                "a directory to stage the sandbox's root on",
                $"None of {string.Join(", ", StagingCandidates)} is a real directory on this host: create /mnt.");

        var flags = PlanFlags.NewRoot | PlanFlags.DropCapabilities | PlanFlags.NoNewPrivileges;
        if (spec.ReadOnlyRoot) flags |= PlanFlags.RootReadOnly;
        if (ns.HasFlag(SandboxNamespaces.Network)) flags |= PlanFlags.LoopbackUp;
        if (identity.DenySetgroups) flags |= PlanFlags.DenySetgroups;
        if (identity.ClearGroups) flags |= PlanFlags.ClearGroups;

        var mounts = new RootFsPlanner(fs).Plan(spec, new IdentityView(identity.InsideUid, identity.InsideGid));
        var plan = new LaunchPlan
        {
            Flags = flags,
            CloneFlags = CloneFlags.For(ns),
            Uid = identity.InsideUid,
            Gid = identity.InsideGid,
            SetupTimeoutMs = (uint)Math.Ceiling(spec.SetupTimeout.TotalMilliseconds),
            UidMap = identity.UidMap,
            GidMap = identity.GidMap,
            Hostname = ns.HasFlag(SandboxNamespaces.Uts) ? spec.Hostname : null,
            RootStaging = staging,
            // On an image root the staging tmpfs holds the overlay's upper and work directories: the image's write cap.
            RootOptions = spec.Image is not null ? RootFsPlanner.TmpfsOptions(spec.ImageWriteSizeBytes, FileModes.Mode0755)
                : spec.ReadOnlyRoot ? "size=1m,nr_inodes=4096,mode=0755" : RootFsPlanner.TmpfsOptions(spec.TmpSizeBytes, FileModes.Mode0755),
            WorkingDirectory = SandboxPath.Normalize(spec.WorkingDirectory),
            Arguments = [spec.Program, .. spec.Arguments],
            Environment = [.. spec.Environment.Select(kv => $"{kv.Key}={kv.Value}")],
            Mounts = mounts,
            // Root's layers carry the image's real ids: in a user namespace they are mounted through its maps.
            IdmapImageLayers = idmap,
            ResourceLimits =
            [
                new ResourceLimit(ResourceLimit.Core, 0, 0),
                new ResourceLimit(ResourceLimit.NoFile, spec.OpenFilesLimit, spec.OpenFilesLimit),
            ],
        };

        var isolation = new AppliedIsolation(
            Namespaces: ns,
            Rootless: identity.Rootless,
            User: new SandboxIdentity(identity.InsideUid, identity.InsideGid),
            HostUser: new SandboxIdentity(identity.OutsideUid, identity.OutsideGid),
            UidMap: identity.UidMap?.Trim(),
            GidMap: identity.GidMap?.Trim(),
            Network: ns.HasFlag(SandboxNamespaces.Network) ? NetworkIsolation.LoopbackOnly : NetworkIsolation.SharedWithHost,
            ReadOnlyRoot: spec.ReadOnlyRoot,
            CapabilitiesDropped: true,
            NoNewPrivileges: true,
            SupplementaryGroupsCleared: identity.ClearGroups,
            EnvironmentInherited: false,
            NewSession: true,
            Mounts: [.. mounts.Where(m => m.Kind is MountOpKind.Bind or MountOpKind.Tmpfs or MountOpKind.Overlay or MountOpKind.Proc or MountOpKind.Devpts)
                .Select(m => Describe(m, idmap))]);
        return (plan, isolation);
    }

    private static string Describe(MountOp op, bool idmappedLayers) => op.Kind switch
    {
        MountOpKind.Bind => $"{op.Target} <- {op.Source} ({(op.Flags.HasFlag(MountFlags.ReadOnly) ? "ro" : "rw")})",
        MountOpKind.Tmpfs => $"{op.Target} tmpfs ({op.Data})",
        MountOpKind.Overlay => $"{op.Target} overlay of {op.Source!.Split(':').Length} layer(s){(idmappedLayers ? " idmapped through the sandbox's id maps" : "")}, writes to " +
            (op.Flags.HasFlag(MountFlags.DiskUpper) ? $"the host directory {op.Data!.Split(':')[0]}" : $"a tmpfs ({op.Data})"),
        _ => $"{op.Target} {op.Kind.ToString().ToLowerInvariant()}",
    };
}
