using System.Collections.Immutable;
using System.Globalization;

namespace Sandbox.Diagnostics;

/// <summary>
/// Who this process is to the kernel's permission checks (effective uid and gid, supplementary groups, effective
/// capabilities), read from /proc/self/status, and what those checks allow on a file whose owner and mode are known.
/// </summary>
internal sealed record ProcessCredentials(uint Uid, uint Gid, ImmutableArray<uint> Groups, ulong EffectiveCapabilities)
{
    public const int CapDacOverride = 1;
    public const int CapSetgid = 6;
    public const int CapSetuid = 7;
    public const int CapSysAdmin = 21;

    /// <summary>The credentials in the text of /proc/self/status; null if a field is missing or malformed.</summary>
    public static ProcessCredentials? Parse(string? status)
    {
        if (!TryEffective(ProcStatus.Field(status, "Uid"), out uint uid) || !TryEffective(ProcStatus.Field(status, "Gid"), out uint gid))
            return null;
        if (ProcStatus.Field(status, "CapEff") is not { } capText
            || !ulong.TryParse(capText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong caps))
            return null;
        var groups = ImmutableArray.CreateBuilder<uint>();
        foreach (var g in (ProcStatus.Field(status, "Groups") ?? "").Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (uint.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out uint id))
                groups.Add(id);
        }
        return new ProcessCredentials(uid, gid, groups.ToImmutable(), caps);
    }

    // "Uid:\treal\teffective\tsaved\tfilesystem": the effective id is the second.
    private static bool TryEffective(string? ids, out uint id)
    {
        id = 0;
        var parts = ids?.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
        return parts is { Length: >= 2 } && uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out id);
    }

    public bool IsRoot => Uid == 0;

    /// <summary>Whether capability number <paramref name="capability"/> (capabilities(7)) is in the effective set.</summary>
    public bool Has(int capability) => (EffectiveCapabilities & (1UL << capability)) != 0;

    /// <summary>Whether the process is in group <paramref name="gid"/> (effective or supplementary).</summary>
    public bool InGroup(uint gid) => Gid == gid || Groups.Contains(gid);

    /// <summary>Whether the kernel lets this process create entries in <paramref name="directory"/>: write and search permission.</summary>
    public bool MayCreateIn(HostFileStatus directory) =>
        Allows(directory, UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            UnixFileMode.GroupWrite | UnixFileMode.GroupExecute, UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);

    /// <summary>Whether the kernel lets this process open <paramref name="file"/> for reading and writing.</summary>
    public bool MayReadWrite(HostFileStatus file) =>
        Allows(file, UnixFileMode.UserRead | UnixFileMode.UserWrite,
            UnixFileMode.GroupRead | UnixFileMode.GroupWrite, UnixFileMode.OtherRead | UnixFileMode.OtherWrite);

    // The classic check (no ACLs: cgroupfs, sysfs and devtmpfs nodes rarely carry any): CAP_DAC_OVERRIDE grants read,
    // write and directory search; otherwise the owner's bits apply to the owner, the group's to a member, the rest to all.
    private bool Allows(HostFileStatus file, UnixFileMode user, UnixFileMode group, UnixFileMode other)
    {
        if (Has(CapDacOverride))
            return true;
        if (file.Uid == Uid)
            return (file.Mode & user) == user;
        if (InGroup(file.Gid))
            return (file.Mode & group) == group;
        return (file.Mode & other) == other;
    }

    public override string ToString() => $"uid {Uid}, gid {Gid}";
}
