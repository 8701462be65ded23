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

    /// <summary>A copy with another gzip level.</summary>
    public LayerCommitOptions WithCompression(CompressionLevel level) => this with { Compression = level };
}
