namespace Sandbox.Images.Layers;

/// <summary>How a layer blob is compressed.</summary>
public enum LayerCompression
{
    /// <summary>A plain tar.</summary>
    None,
    /// <summary>gzip (RFC 1952), one or more members.</summary>
    Gzip,
    /// <summary>Zstandard.</summary>
    Zstd,
}
