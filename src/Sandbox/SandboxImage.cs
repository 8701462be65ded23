using System.Collections.Immutable;
using Sandbox.Images;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;
using Sandbox.Images.Store;

namespace Sandbox;

/// <summary>
/// An image a sandbox runs on: its layer directories (overlayfs' lowerdir order, top first) and the execution
/// parameters its config asks for. Made from an <see cref="ImageLease"/>, which the caller keeps undisposed
/// until the run has ended (the lease keeps garbage collection off the layers).
/// </summary>
/// <param name="Reference">The image's name, for messages and the applied isolation.</param>
/// <param name="LowerDirectories">The layer directories on the host, top layer first.</param>
/// <param name="Config">The image's execution parameters.</param>
/// <param name="UserXattr">Whether the layers' opaque directories use user.overlay.* (unpacked rootless), so the overlay is mounted with <c>userxattr</c>.</param>
public sealed record SandboxImage(string Reference, ImmutableArray<string> LowerDirectories, ContainerConfig Config, bool UserXattr)
{
    /// <summary>
    /// Whether every layer marks its opaque directories with user.overlay.* xattrs (rootless unpacks, and root's, which
    /// write trusted.overlay.* too), so an overlay mounted with <c>userxattr</c> inside a user namespace reads them. Root's
    /// layers (not <see cref="UserXattr"/>) are then mounted idmapped through the sandbox's id maps.
    /// </summary>
    public bool CarriesUserXattr { get; init; }

    /// <summary>The image's user as ids, or null when the image names none (the spec's user stays).</summary>
    public SandboxIdentity? User { get; init; }

    /// <summary>Why the image's user could not be turned into ids, or null.</summary>
    public string? UserProblem { get; init; }

    /// <summary>The image held by <paramref name="lease"/>, its user resolved against the image's /etc/passwd and /etc/group.</summary>
    public static SandboxImage From(ImageLease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var lowers = lease.LowerDirectories;
        var config = lease.Image.Config.Config;
        var (user, problem) = ImageUser.Resolve(config.User, path => ReadImageFile(lowers, path));
        return new SandboxImage(lease.Image.Reference.ToString(), lowers, config,
            lease.Layers.Any(l => l.XattrNamespace == OverlayXattrNamespace.User))
        {
            CarriesUserXattr = lease.Layers.All(l => l.XattrNamespace is OverlayXattrNamespace.User or OverlayXattrNamespace.TrustedAndUser),
            User = user,
            UserProblem = problem,
        };
    }

    /// <summary>The text of a file of the merged image (the top-most layer that has it), or null; a whiteout hides it.</summary>
    private static string? ReadImageFile(ImmutableArray<string> lowers, string relativePath)
    {
        foreach (var dir in lowers)
        {
            var info = new FileInfo(Path.Combine(dir, relativePath));
            if (info.Exists)
                return info.Length <= 1 << 20 ? File.ReadAllText(info.FullName) : null;
            if (File.Exists(info.FullName) || Directory.Exists(info.FullName) || info.LinkTarget is not null || IsWhiteout(info.FullName))
                return null;
        }
        return null;
    }

    private static bool IsWhiteout(string path)
    {
        try
        {
            return (File.GetAttributes(path) & FileAttributes.Device) != 0;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
