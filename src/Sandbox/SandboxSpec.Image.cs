using System.Collections.Immutable;
using System.Diagnostics.Contracts;
using Sandbox.Images;
using Sandbox.Images.Store;

namespace Sandbox;

public sealed partial record SandboxSpec
{
    /// <summary>The image whose layers make the root, or null for the default root of host system directories.</summary>
    public SandboxImage? Image { get; init; }

    /// <summary>The cap on what the sandbox may write over an image root (the overlay's throw-away upper tmpfs).</summary>
    public long ImageWriteSizeBytes { get; init; } = 256L << 20;

    /// <summary>
    /// The host directory the image root's writes go to (overlayfs' upperdir), or null for a throw-away tmpfs. Set by
    /// <see cref="WithImageWritableLayer(ImageWritableLayer)"/>, with <see cref="ImageWorkDirectory"/>.
    /// </summary>
    public string? ImageUpperDirectory { get; init; }

    /// <summary>overlayfs' workdir beside <see cref="ImageUpperDirectory"/> (same file system, empty), or null.</summary>
    public string? ImageWorkDirectory { get; init; }

    /// <summary>
    /// A host directory beside <see cref="ImageUpperDirectory"/> for the runtime's own files, or null. With one, the setup
    /// writes nothing through the overlay: /etc/hosts and /etc/resolv.conf are host files in it bind-mounted onto empty
    /// mount points, which (with /proc, /dev, /tmp and the targets of the spec's mounts that the image lacks) come from a
    /// lower layer of its own over the image's, so the upper
    /// directory holds only what the program wrote, and a commit adds /etc/hosts or /etc/resolv.conf only if the program
    /// changed them. Without one they are written through the overlay (an upper <c>etc/</c> copied up for them) and a commit
    /// leaves them out by path (<see cref="ImageCommitOptions.ExcludedPaths"/>). Set by <see cref="WithImageWritableLayer(ImageWritableLayer)"/>.
    /// </summary>
    public string? ImageSetupDirectory { get; init; }

    /// <summary>
    /// A sandbox that runs the image's own command (Entrypoint then Cmd) on its root: see <see cref="WithImage(ImageLease)"/>.
    /// </summary>
    /// <param name="lease">The image, held until the run has ended: dispose the lease after the sandbox.</param>
    public static SandboxSpec FromImage(ImageLease lease) => new SandboxSpec("", []).WithImage(lease);

    /// <summary>
    /// Runs on the image's root file system instead of the host's system directories: an overlay of its layers
    /// under a throw-away upper layer on a tmpfs (<see cref="ImageWriteSizeBytes"/>), so nothing the sandbox writes
    /// reaches the store or outlives it. The root stays read-only, the secure default, unless
    /// <see cref="WithWritableRoot"/>; /proc, /dev, /tmp, /etc/hosts, /etc/resolv.conf and the spec's mounts go on top.
    /// The image's config applies where the spec has not decided: its Env over the default environment (variables
    /// set before or after this call win), its WorkingDir over "/", its User (numeric, or a name in its /etc/passwd),
    /// and its Entrypoint and Cmd when the spec has no program.
    /// </summary>
    /// <param name="lease">The image, held until the run has ended: dispose the lease after the sandbox.</param>
    [Pure]
    public SandboxSpec WithImage(ImageLease lease) => WithImage(SandboxImage.From(lease));

    /// <summary>Runs on <paramref name="image"/>'s root file system: see <see cref="WithImage(ImageLease)"/>.</summary>
    /// <param name="image">The image; its layer directories must stay until the run has ended.</param>
    [Pure]
    public SandboxSpec WithImage(SandboxImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var config = image.Config;
        var environment = Environment;
        foreach (var (name, value) in config.Environment)
        {
            bool specDecided = environment.TryGetValue(name, out var current)
                && !(DefaultEnvironment.TryGetValue(name, out var fallback) && fallback == current);
            if (!specDecided) environment = environment.SetItem(name, value);
        }
        var spec = this with
        {
            Image = image,
            Environment = environment,
            WorkingDirectory = WorkingDirectory == "/" && !string.IsNullOrEmpty(config.WorkingDir) ? config.WorkingDir : WorkingDirectory,
            User = image.User ?? User,
        };
        var command = config.Command;
        if (string.IsNullOrEmpty(Program) && command.Length > 0)
            spec = spec with { Program = command[0], Arguments = [.. command.Skip(1), .. Arguments] };
        return spec;
    }

    /// <summary>
    /// Keeps what the sandbox writes over its image root in <paramref name="layer"/>'s upper directory on the host
    /// instead of a throw-away tmpfs, so that <see cref="ImageStore.CommitAsync(ImageWritableLayer, ImageReference, ImageReference, ImageCommitOptions?, CancellationToken)"/>
    /// can make a new image of it; the runtime's own files go to the layer's <see cref="ImageWritableLayer.SetupDirectory"/>
    /// (see <see cref="ImageSetupDirectory"/>), so the layer holds only what the program changed. Needs <see cref="WithImage(ImageLease)"/> and, for the program to write anything,
    /// <see cref="WithWritableRoot"/>. <see cref="ImageWriteSizeBytes"/> does not apply: the host file system's space does.
    /// </summary>
    /// <param name="layer">The directories, kept (not disposed) until the run has ended and the layer is committed or discarded.</param>
    [Pure]
    public SandboxSpec WithImageWritableLayer(ImageWritableLayer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return WithImageWritableLayer(layer.UpperDirectory, layer.WorkDirectory, layer.SetupDirectory);
    }

    /// <summary>
    /// Keeps the image root's writes in <paramref name="upperDirectory"/> (overlayfs' upperdir; <paramref name="workDirectory"/> its
    /// workdir, empty, on the same file system), and the runtime's own files in <paramref name="setupDirectory"/> if given
    /// (see <see cref="ImageSetupDirectory"/>).
    /// </summary>
    [Pure]
    public SandboxSpec WithImageWritableLayer(string upperDirectory, string workDirectory, string? setupDirectory = null) =>
        this with { ImageUpperDirectory = upperDirectory, ImageWorkDirectory = workDirectory, ImageSetupDirectory = setupDirectory };

    /// <summary>Caps what the sandbox may write over an image root.</summary>
    [Pure]
    public SandboxSpec WithImageWriteSize(long bytes) => this with { ImageWriteSizeBytes = bytes };

    private void ValidateImage(List<string> problems, bool hostIsRoot)
    {
        ValidateImageWritableLayer(problems);
        if (Image is not { } image) return;
        if (image.UserProblem is not null) problems.Add(image.UserProblem);
        if (image.LowerDirectories.IsDefaultOrEmpty)
            problems.Add($"Image '{image.Reference}' has no layers: import or pull it again.");
        else
            foreach (var dir in image.LowerDirectories.Where(d => d.Contains(':', StringComparison.Ordinal) || !Path.IsPathFullyQualified(d)))
                problems.Add($"Image '{image.Reference}' layer directory '{dir}' is not an absolute path without ':': open the store at such a path.");
        // Root's layers run in a user namespace idmapped (the launcher mounts each through the sandbox's id maps), and
        // with userxattr: that needs the user.overlay.* opaque marks, which only layers unpacked since root writes
        // both namespaces carry. A rootless host cannot idmap at all.
        if (!image.UserXattr && Namespaces.HasFlag(SandboxNamespaces.User))
        {
            if (!image.CarriesUserXattr)
                problems.Add($"Image '{image.Reference}' was unpacked by root before its layers carried user.overlay.* xattrs (its opaque directories are " +
                    "trusted.overlay.* only), which an overlay mounted inside a user namespace cannot read: remove it and its layers " +
                    "(ImageStore.RemoveImage then CollectGarbage; CLI: sandbox rmi --prune REF) and import or pull the image again (its layers then carry both), " +
                    "or as root add .WithoutNamespaces(SandboxNamespaces.User) (the sandbox still drops every capability and sets no_new_privs).");
            else if (!hostIsRoot)
                problems.Add($"Image '{image.Reference}' is in root's store (its files carry the image's real owners), which only a root host can map into a " +
                    "user namespace (idmapped layers): run the host as root, or import the image into a store of the host user for a rootless run.");
            else if (Math.Max(User.Uid, User.Gid) >= (HostIdRange?.Count ?? HostIdRange.MinimumCount))
                problems.Add($"User {User} lies outside the {HostIdRange?.Count ?? HostIdRange.MinimumCount} ids a root host maps for an image of its store in a user namespace: " +
                    "run as a user below that, or give a larger block with WithHostIdRange.");
            else if (ImageUpperDirectory is not null)
                problems.Add($"Image '{image.Reference}' is in root's store and the spec keeps its writes in a host directory (WithImageWritableLayer), which " +
                    "a sandbox in a user namespace cannot own: add .WithoutNamespaces(SandboxNamespaces.User) for a run whose writes are committed.");
        }
        if (HostIdRange is { } range && (range.Count == 0 || (ulong)range.FirstUid + range.Count > uint.MaxValue || (ulong)range.FirstGid + range.Count > uint.MaxValue))
            problems.Add($"HostIdRange {range} is empty or runs past the last id: name a block of at least one id below 4294967295.");
        if (ImageWriteSizeBytes < 4096)
            problems.Add($"ImageWriteSizeBytes {ImageWriteSizeBytes} is too small: give the image's writable layer at least 4096 bytes.");
        if (string.IsNullOrEmpty(Program) && image.Config.Command.IsEmpty)
            problems.Add($"Image '{image.Reference}' has no Entrypoint or Cmd and the spec names no program: name one, e.g. SandboxSpec.Command(\"/bin/sh\").WithImage(lease).");
    }

    private void ValidateImageWritableLayer(List<string> problems)
    {
        if (ImageUpperDirectory is null && ImageWorkDirectory is null)
        {
            if (ImageSetupDirectory is not null)
                problems.Add("ImageSetupDirectory needs a writable layer: set it with WithImageWritableLayer (the runtime's files go beside the layer's writes).");
            return;
        }
        if (Image is null)
            problems.Add("WithImageWritableLayer needs an image root: add WithImage(lease) (a writable layer keeps an image's writes).");
        foreach (var (name, dir) in new[] { ("upper", ImageUpperDirectory), ("work", ImageWorkDirectory), ("setup", ImageSetupDirectory ?? "/") })
            if (string.IsNullOrEmpty(dir) || dir.Contains(':', StringComparison.Ordinal) || !Path.IsPathFullyQualified(dir))
                problems.Add($"The image writable layer's {name} directory '{dir}' is not an absolute path without ':': use ImageStore.CreateWritableLayer, or name two such directories.");
        if (ImageUpperDirectory is { } upper && ImageWorkDirectory is { } work && Path.TrimEndingDirectorySeparator(upper) == Path.TrimEndingDirectorySeparator(work))
            problems.Add($"The image writable layer's upper and work directories are both '{upper}': overlayfs needs two sibling directories.");
    }
}
