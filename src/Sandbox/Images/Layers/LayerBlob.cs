using Sandbox.Images.Oci;

namespace Sandbox.Images.Layers;

/// <summary>What the manifest and config say about one layer: its blob digest and size, compression and diff id.</summary>
/// <param name="Digest">The digest of the blob as stored (compressed).</param>
/// <param name="Size">The blob's size, if the manifest gives it.</param>
/// <param name="Compression">How the blob is compressed.</param>
/// <param name="DiffId">The digest of the uncompressed tar (config rootfs.diff_ids), if known.</param>
public sealed record LayerBlob(Digest Digest, long? Size, LayerCompression Compression, Digest? DiffId)
{
    /// <summary>Reads the compression from the first bytes of a blob (gzip 1f 8b, zstd 28 b5 2f fd, else a plain tar).</summary>
    public static LayerCompression DetectCompression(ReadOnlySpan<byte> head) =>
        head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b ? LayerCompression.Gzip
        : head.Length >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd ? LayerCompression.Zstd
        : LayerCompression.None;
}
