using System.Globalization;
using System.Text;

namespace Sandbox.Images.Layers;

/// <summary>
/// The owner a layer gave a file, kept where the unpacking could not make it the file's owner (<see cref="IdMapping.Unpacker"/>,
/// rootless): the xattr <c>user.sandbox.owner</c> = "UID:GID" on a regular file or directory whose layer owner is not 0:0 (a
/// user.* xattr cannot go on a symlink or a device node; 0:0 is what a missing record means). overlayfs copies it up with the
/// file, so a commit records a changed file of the image with the owner its layer gave it (<see cref="UpperLayerWriter.TryCommittedOwner"/>).
/// The store's own: never taken from a layer, never written into one.
/// </summary>
internal static class RecordedOwner
{
    /// <summary>The xattr's name.</summary>
    public const string XattrName = "user.sandbox.owner";

    /// <summary>The xattr's value for a layer owner, or null for 0:0 (no record needed).</summary>
    public static byte[]? ValueFor(int uid, int gid) =>
        uid == 0 && gid == 0 ? null : Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{uid}:{gid}"));

    /// <summary>The owner in a value of the xattr; false if it is not "UID:GID" with ids a tar can hold.</summary>
    public static bool TryParse(ReadOnlySpan<byte> value, out int uid, out int gid)
    {
        uid = gid = 0;
        if (value.Length > 32) return false;
        string text = Encoding.ASCII.GetString(value);
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon > 0
            && int.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out uid)
            && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out gid);
    }
}
