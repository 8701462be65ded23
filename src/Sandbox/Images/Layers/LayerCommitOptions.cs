using System.Collections.Immutable;
using System.IO.Compression;

namespace Sandbox.Images.Layers;

/// <summary>How an overlay upper directory becomes a layer: which overlay xattrs mark opaque directories, how owners map back, how hard to compress.</summary>
public sealed record LayerCommitOptions
{
    /// <summary>The namespace of the overlay xattrs in the upper directory: the one its overlay was mounted with (user.* with userxattr, rootless).</summary>
    public OverlayXattrNamespace XattrNamespace { get; init; } = OverlayXattrNamespace.Trusted;

    /// <summary>
    /// The mapping the image's layers were unpacked with: the tar records owners mapped back through it
    /// (<see cref="IdMapping.TryMapBack"/>), so the new layer uses the image's ids, not the host's.
    /// </summary>
    public IdMapping Owners { get; init; } = IdMapping.Identity;

    /// <summary>
    /// The ids the sandbox's program ran as, or null if unknown; with <see cref="SandboxHostUser"/>. Where <see cref="Owners"/>
    /// kept no owners (<see cref="IdMapping.Unpacker"/>, a rootless store), a file the program made is recorded with these
    /// ids, the ones the sandbox saw (see <see cref="UpperLayerWriter"/>). Set with <see cref="WithSandboxIds(AppliedIsolation)"/>;
    /// a commit of an <see cref="Store.ImageWritableLayer"/> takes them from the run's record.
    /// </summary>
    public SandboxIdentity? SandboxUser { get; init; }

    /// <summary>The host ids <see cref="SandboxUser"/> was mapped to (the on-disk owner of what the program made), or null.</summary>
    public SandboxIdentity? SandboxHostUser { get; init; }

    /// <summary>
    /// Host files added to the layer as regular files at the given paths (relative, e.g. "etc/hosts"), in place of anything
    /// the upper directory has there: runtime files the program changed, which live outside the upper directory.
    /// </summary>
    internal ImmutableArray<(string Path, string HostFile)> AddedFiles { get; init; } = [];

    /// <summary>The gzip level. Default: <see cref="CompressionLevel.Optimal"/>.</summary>
    public CompressionLevel Compression { get; init; } = CompressionLevel.Optimal;

    /// <summary>
    /// Paths of the upper directory (relative, e.g. "etc/hosts") left out of the layer with everything beneath them:
    /// what a sandbox's own setup put there, not its program. Default: none.
    /// </summary>
    public ImmutableArray<string> ExcludedPaths { get; init; } = [];

    /// <summary>For a store unpacked with <paramref name="options"/>: its xattr namespace and owner mapping.</summary>
    public static LayerCommitOptions For(LayerApplyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new LayerCommitOptions { XattrNamespace = options.XattrNamespace, Owners = options.Owners };
    }

    /// <summary>A copy with another xattr namespace.</summary>
    public LayerCommitOptions WithXattrNamespace(OverlayXattrNamespace ns) => this with { XattrNamespace = ns };

    /// <summary>A copy with another owner mapping.</summary>
    public LayerCommitOptions WithOwners(IdMapping owners) => this with { Owners = owners };

    /// <summary>A copy leaving <paramref name="paths"/> (relative or absolute inside the sandbox) out of the layer.</summary>
    public LayerCommitOptions WithExcludedPaths(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return this with { ExcludedPaths = [.. paths.Select(p => p.Trim('/')).Where(p => p.Length > 0).Distinct(StringComparer.Ordinal)] };
    }

    /// <summary>A copy recording files the program made with <paramref name="user"/>, the ids it ran as, where their host owner is <paramref name="hostUser"/> (see <see cref="SandboxUser"/>).</summary>
    public LayerCommitOptions WithSandboxIds(SandboxIdentity user, SandboxIdentity hostUser) => this with { SandboxUser = user, SandboxHostUser = hostUser };

    /// <summary>A copy with the ids of the run <paramref name="isolation"/> describes (<see cref="AppliedIsolation.User"/> mapped to <see cref="AppliedIsolation.HostUser"/>).</summary>
    public LayerCommitOptions WithSandboxIds(AppliedIsolation isolation)
    {
        ArgumentNullException.ThrowIfNull(isolation);
        return WithSandboxIds(isolation.User, isolation.HostUser);
    }

    /// <summary>A copy adding <paramref name="files"/> (layer path, host file) to the layer.</summary>
    internal LayerCommitOptions WithAddedFiles(IEnumerable<(string Path, string HostFile)> files) => this with { AddedFiles = [.. AddedFiles, .. files] };

    /// <summary>A copy with another gzip level.</summary>
    public LayerCommitOptions WithCompression(CompressionLevel level) => this with { Compression = level };
}
