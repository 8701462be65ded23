namespace Sandbox.Images.Layers;

/// <summary>
/// How the owners recorded in a layer become owners on disk: kept (root stores), shifted into the range the
/// sandbox's user namespace maps (so the layer's root is the sandbox's root, not the host's), or left to
/// whoever unpacks (rootless: the kernel allows nothing else).
/// </summary>
public sealed record IdMapping
{
    private IdMapping(IdMappingKind kind, uint uidBase, uint gidBase, uint size)
    {
        Kind = kind;
        HostUidBase = uidBase;
        HostGidBase = gidBase;
        Size = size;
    }

    /// <summary>Owners as recorded (needs root).</summary>
    public static IdMapping Identity { get; } = new(IdMappingKind.Identity, 0, 0, uint.MaxValue);

    /// <summary>
    /// No chown at all: every file belongs to the unpacking process (rootless). A layer owner other than 0:0 is kept in the
    /// xattr <c>user.sandbox.owner</c> of its file or directory (not of a symlink, which cannot carry one), for commits. A
    /// rootless run maps only the unpacking user (to the sandbox user), so inside it every file of the image shows as the
    /// sandbox user's.
    /// </summary>
    public static IdMapping Unpacker { get; } = new(IdMappingKind.Unpacker, 0, 0, 0);

    /// <summary>Layer id n becomes host id base+n for n below <paramref name="size"/>; a larger id is an error (needs root).</summary>
    public static IdMapping Shift(uint hostUidBase, uint hostGidBase, uint size)
    {
        if (size == 0) throw new ArgumentOutOfRangeException(nameof(size), "The range must hold at least one id.");
        if ((ulong)hostUidBase + size - 1 > uint.MaxValue || (ulong)hostGidBase + size - 1 > uint.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(size), "The range passes the largest id.");
        return new IdMapping(IdMappingKind.Shift, hostUidBase, hostGidBase, size);
    }

    /// <summary>Which mapping this is.</summary>
    public IdMappingKind Kind { get; }

    /// <summary>The host uid layer uid 0 becomes (for <see cref="IdMappingKind.Shift"/>).</summary>
    public uint HostUidBase { get; }

    /// <summary>The host gid layer gid 0 becomes (for <see cref="IdMappingKind.Shift"/>).</summary>
    public uint HostGidBase { get; }

    /// <summary>How many ids the range covers.</summary>
    public uint Size { get; }

    /// <summary>True if files are chowned at all.</summary>
    public bool ChangesOwners => Kind != IdMappingKind.Unpacker;

    /// <summary>The host owner for a layer owner; false if the id is outside the range.</summary>
    public bool TryMap(int uid, int gid, out uint hostUid, out uint hostGid)
    {
        hostUid = hostGid = 0;
        if (uid < 0 || gid < 0) return false;
        switch (Kind)
        {
            case IdMappingKind.Identity:
                (hostUid, hostGid) = ((uint)uid, (uint)gid);
                return true;
            case IdMappingKind.Shift:
                if ((uint)uid >= Size || (uint)gid >= Size) return false;
                (hostUid, hostGid) = (HostUidBase + (uint)uid, HostGidBase + (uint)gid);
                return true;
            default:
                return true;
        }
    }

    /// <summary>
    /// The inverse of <see cref="TryMap"/>: the layer owner a host owner stands for. Identity keeps it; a shift takes
    /// the base off (false for an id outside the range); <see cref="Unpacker"/>, which gave every layer owner to the
    /// unpacking user, cannot tell them apart on disk, and gives back 0:0, the owner of an image's own files. A commit does
    /// better for an unpacker's store where it knows more (<see cref="UpperLayerWriter.TryCommittedOwner"/>: the ids the run
    /// used for what its program made, the recorded owner for a changed file of the image).
    /// </summary>
    public bool TryMapBack(uint hostUid, uint hostGid, out int uid, out int gid)
    {
        uid = gid = 0;
        switch (Kind)
        {
            case IdMappingKind.Identity:
                if (hostUid > int.MaxValue || hostGid > int.MaxValue) return false;
                (uid, gid) = ((int)hostUid, (int)hostGid);
                return true;
            case IdMappingKind.Shift:
                if (hostUid < HostUidBase || hostUid - HostUidBase >= Size || hostGid < HostGidBase || hostGid - HostGidBase >= Size) return false;
                if (hostUid - HostUidBase > int.MaxValue || hostGid - HostGidBase > int.MaxValue) return false;
                (uid, gid) = ((int)(hostUid - HostUidBase), (int)(hostGid - HostGidBase));
                return true;
            default:
                return true;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        IdMappingKind.Shift => $"shift 0..{Size - 1} to uid {HostUidBase}, gid {HostGidBase}",
        _ => Kind.ToString(),
    };
}

/// <summary>The kinds of <see cref="IdMapping"/>.</summary>
public enum IdMappingKind
{
    /// <summary>Owners as recorded.</summary>
    Identity,
    /// <summary>Owners shifted into a range.</summary>
    Shift,
    /// <summary>No chown: the unpacking process owns everything.</summary>
    Unpacker,
}
