using Sandbox.Images.Layers;
using Sandbox.Images.Oci;

namespace Sandbox.Images;

/// <summary>
/// A layer could not be applied: it is corrupt, truncated, does not match its digest, breaks a limit or tries
/// to write outside its directory. Names the layer's digest and the tar entry; nothing of the layer is left behind.
/// </summary>
public sealed class LayerException : ImageException
{
    /// <summary>Creates the exception.</summary>
    public LayerException(LayerProblem kind, Digest layer, string? entry, string problem, string fix, Exception? innerException = null)
        : base(Describe(kind, entry, problem), null, layer, fix, innerException)
    {
        Kind = kind;
        Layer = layer;
        Entry = entry;
    }

    /// <summary>Which rule the layer broke.</summary>
    public LayerProblem Kind { get; }

    /// <summary>The layer's digest (of the blob as stored, or its diff id when that is all there is).</summary>
    public Digest Layer { get; }

    /// <summary>The tar entry's name as the layer spells it, if the problem is with one entry.</summary>
    public string? Entry { get; }

    private static string Describe(LayerProblem kind, string? entry, string problem) =>
        entry is null ? $"layer rejected ({kind}): {problem}" : $"layer rejected ({kind}) at entry '{entry}': {problem}";
}
