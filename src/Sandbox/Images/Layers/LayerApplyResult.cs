using System.Collections.Immutable;
using Sandbox.Images.Oci;

namespace Sandbox.Images.Layers;

/// <summary>A layer that was unpacked: its verified digests, what it held and what was left out.</summary>
/// <param name="Digest">The blob's digest, verified.</param>
/// <param name="DiffId">The uncompressed tar's digest, verified against the config when it names one.</param>
/// <param name="CompressedBytes">Bytes of the blob.</param>
/// <param name="TarBytes">Bytes of the uncompressed tar.</param>
/// <param name="Entries">Tar entries read.</param>
/// <param name="FileBytes">Bytes of regular file content written.</param>
/// <param name="Notes">What was left out or changed (at most 100; <see cref="MoreNotes"/> counts the rest).</param>
public sealed record LayerApplyResult(
    Digest Digest, Digest DiffId, long CompressedBytes, long TarBytes, int Entries, long FileBytes, ImmutableArray<LayerNote> Notes)
{
    /// <summary>Notes beyond the first 100.</summary>
    public int MoreNotes { get; init; }
}
