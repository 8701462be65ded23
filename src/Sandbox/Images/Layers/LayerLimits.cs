namespace Sandbox.Images.Layers;

/// <summary>What one layer may hold before it is rejected as hostile or broken.</summary>
public sealed record LayerLimits
{
    /// <summary>Generous limits for real images.</summary>
    public static LayerLimits Default { get; } = new();

    /// <summary>Tar entries (files, directories, links, whiteouts, ...). Default 1,000,000.</summary>
    public int MaxEntries { get; init; } = 1_000_000;

    /// <summary>The sum of regular file sizes. Default 64 GiB.</summary>
    public long MaxTotalBytes { get; init; } = 64L << 30;

    /// <summary>Bytes of one entry's path (UTF-8). Default 4096 (PATH_MAX).</summary>
    public int MaxPathBytes { get; init; } = 4096;

    /// <summary>Bytes of one path component. Default 255 (NAME_MAX).</summary>
    public int MaxNameBytes { get; init; } = 255;

    /// <summary>Bytes of a symbolic link's text. Default 4095.</summary>
    public int MaxLinkTargetBytes { get; init; } = 4095;

    /// <summary>
    /// The uncompressed tar stream as a whole (headers, PAX records and padding included); a decompression
    /// bomb stops here. Default: <see cref="MaxTotalBytes"/> plus 4 KiB per allowed entry.
    /// </summary>
    public long MaxStreamBytes => MaxTotalBytes + (long)MaxEntries * 4096;

    /// <summary>A copy with another entry limit.</summary>
    public LayerLimits WithMaxEntries(int entries) => this with { MaxEntries = entries };

    /// <summary>A copy with another size limit.</summary>
    public LayerLimits WithMaxTotalBytes(long bytes) => this with { MaxTotalBytes = bytes };
}
