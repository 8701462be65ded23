using System.Globalization;

namespace Sandbox;

/// <summary>
/// A block of host ids a root host maps a sandbox's ids 0..Count-1 onto, for an image of root's store run in a user
/// namespace: its layers carry the image's real owners (0:0, 1000:1000 ...), which the sandbox then sees as they are,
/// and every process and file of the sandbox is a host id of this block, which owns nothing else on the host.
/// </summary>
/// <param name="FirstUid">The host uid inside uid 0 maps to.</param>
/// <param name="FirstGid">The host gid inside gid 0 maps to.</param>
/// <param name="Count">How many ids are mapped (inside 0..Count-1); the image's user must be one of them.</param>
public sealed record HostIdRange(uint FirstUid, uint FirstGid, uint Count)
{
    /// <summary>The ids an image needs at least: 0..65535.</summary>
    public const uint MinimumCount = 65536;

    /// <summary>
    /// The block used when the spec names none and root has no subordinate ids in /etc/subuid and /etc/subgid:
    /// 524288 (0x80000, where systemd's range for container ids starts), 65536 ids, for both.
    /// </summary>
    public static HostIdRange Default { get; } = new(524288, 524288, MinimumCount);

    /// <summary>
    /// Root's first block of at least <see cref="MinimumCount"/> subordinate ids ("root:FIRST:COUNT" or "0:FIRST:COUNT"
    /// in /etc/subuid and /etc/subgid, as podman and LXC read them), capped at <see cref="MinimumCount"/>; null when
    /// either file has none.
    /// </summary>
    /// <param name="subuid">The text of /etc/subuid, or null.</param>
    /// <param name="subgid">The text of /etc/subgid, or null.</param>
    public static HostIdRange? FromSubordinateIds(string? subuid, string? subgid) =>
        FirstRootBlock(subuid) is { } uid && FirstRootBlock(subgid) is { } gid ? new HostIdRange(uid, gid, MinimumCount) : null;

    private static uint? FirstRootBlock(string? text)
    {
        foreach (var line in (text ?? "").Split('\n'))
        {
            var fields = line.Trim().Split(':');
            if (fields.Length != 3 || fields[0] is not ("root" or "0")) continue;
            if (uint.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out uint first)
                && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint count)
                && count >= MinimumCount && (ulong)first + MinimumCount <= uint.MaxValue)
                return first;
        }
        return null;
    }

    /// <summary>The uid_map (or gid_map) line for a block starting at <paramref name="first"/>: "0 FIRST COUNT\n".</summary>
    internal string MapLine(uint first) => string.Create(CultureInfo.InvariantCulture, $"0 {first} {Count}\n");

    /// <inheritdoc />
    public override string ToString() => $"uids {FirstUid}.., gids {FirstGid}.. ({Count} ids)";
}
