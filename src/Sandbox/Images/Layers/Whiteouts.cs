namespace Sandbox.Images.Layers;

/// <summary>The OCI image spec's whiteout names (layer.md, "Whiteouts").</summary>
public static class Whiteouts
{
    /// <summary>The prefix of a whiteout: <c>.wh.NAME</c> removes NAME from the layers below.</summary>
    public const string Prefix = ".wh.";

    /// <summary>The opaque marker: its directory hides every child of the layers below.</summary>
    public const string OpaqueMarker = ".wh..wh..opq";

    /// <summary>The prefix of AUFS/overlay metadata names (<c>.wh..wh.plnk</c>, ...), which are not whiteouts and are skipped.</summary>
    public const string MetadataPrefix = ".wh..wh.";

    /// <summary>What a base name means: an ordinary name, a whiteout of a sibling, the opaque marker or metadata to skip.</summary>
    public static WhiteoutKind Classify(string baseName, out string target)
    {
        target = "";
        if (!baseName.StartsWith(Prefix, StringComparison.Ordinal)) return WhiteoutKind.None;
        if (baseName == OpaqueMarker) return WhiteoutKind.Opaque;
        if (baseName.StartsWith(MetadataPrefix, StringComparison.Ordinal)) return WhiteoutKind.Metadata;
        target = baseName[Prefix.Length..];
        if (target is not ("" or "." or "..")) return WhiteoutKind.Whiteout;
        target = "";
        return WhiteoutKind.Invalid;
    }
}

/// <summary>What <see cref="Whiteouts.Classify"/> found.</summary>
public enum WhiteoutKind
{
    /// <summary>An ordinary name.</summary>
    None,
    /// <summary><c>.wh.NAME</c>.</summary>
    Whiteout,
    /// <summary><c>.wh..wh..opq</c>.</summary>
    Opaque,
    /// <summary><c>.wh..wh.*</c> other than the opaque marker.</summary>
    Metadata,
    /// <summary><c>.wh.</c> followed by nothing, "." or "..".</summary>
    Invalid,
}
