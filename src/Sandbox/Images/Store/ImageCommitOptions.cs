using System.Collections.Immutable;
using Sandbox.Images.Layers;

namespace Sandbox.Images.Store;

/// <summary>What a commit records in the new image's config, and how it writes the layer.</summary>
public sealed record ImageCommitOptions
{
    /// <summary>The history entry's created_by. Default: "sandbox commit".</summary>
    public string CreatedBy { get; init; } = "sandbox commit";

    /// <summary>The history entry's comment, or null for none.</summary>
    public string? Comment { get; init; }

    /// <summary>The new config's and history entry's creation time; null: now.</summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>How the layer is written; null: from the store's <see cref="ImageStoreOptions.Layers"/> (owner mapping) and the base image's layers (overlay xattr namespace).</summary>
    public LayerCommitOptions? Layer { get; init; }

    /// <summary>
    /// What every sandbox's setup puts over an image root, whatever its program does: /etc/hosts and /etc/resolv.conf
    /// and the mount points /proc, /dev and /tmp (whose contents are other file systems). A run on an
    /// <see cref="ImageWritableLayer"/> never puts them in the upper directory (its setup directory holds them, and a
    /// commit adds /etc/hosts or /etc/resolv.conf only if the program changed them: see
    /// <see cref="SandboxSpec.ImageSetupDirectory"/>); for an upper directory written without one (a run given only
    /// upper and work directories) they are left out of commits by these paths, as container engines leave them out.
    /// </summary>
    public static ImmutableArray<string> SandboxSetupPaths { get; } = ["etc/hosts", "etc/resolv.conf", "proc", "dev", "tmp"];

    /// <summary>
    /// Paths of the upper directory left out of the layer, with what is beneath them. Default: <see cref="SandboxSetupPaths"/>;
    /// add a spec's own mount targets with <see cref="WithExcludedMountTargets"/>. They apply to the upper directory only: a
    /// runtime file the program changed, which a writable layer keeps outside it, is added all the same.
    /// </summary>
    public ImmutableArray<string> ExcludedPaths { get; init; } = SandboxSetupPaths;

    /// <summary>
    /// A copy also leaving out the targets of <paramref name="spec"/>'s binds and tmpfs mounts: the setup makes them in the upper
    /// directory when the image lacks them, unless the run had a setup directory (<see cref="SandboxSpec.ImageSetupDirectory"/>,
    /// every <see cref="ImageWritableLayer"/>), whose mount-point layer holds them instead.
    /// </summary>
    public ImageCommitOptions WithExcludedMountTargets(SandboxSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return this with { ExcludedPaths = [.. ExcludedPaths.Concat(spec.Mounts.Select(m => m.Target.Trim('/'))).Where(p => p.Length > 0).Distinct(StringComparer.Ordinal)] };
    }

    /// <summary>A copy with other excluded paths (relative, e.g. "etc/hosts"), in place of the default ones.</summary>
    public ImageCommitOptions WithExcludedPaths(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return this with { ExcludedPaths = [.. paths.Select(p => p.Trim('/')).Where(p => p.Length > 0).Distinct(StringComparer.Ordinal)] };
    }

    /// <summary>A copy with another created_by.</summary>
    public ImageCommitOptions WithCreatedBy(string createdBy) => this with { CreatedBy = createdBy };

    /// <summary>A copy with a comment.</summary>
    public ImageCommitOptions WithComment(string? comment) => this with { Comment = comment };

    /// <summary>A copy with a fixed creation time.</summary>
    public ImageCommitOptions WithCreated(DateTimeOffset created) => this with { Created = created };

    /// <summary>A copy with other layer options.</summary>
    public ImageCommitOptions WithLayer(LayerCommitOptions layer) => this with { Layer = layer };
}
