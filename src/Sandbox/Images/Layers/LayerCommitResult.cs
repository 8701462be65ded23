using Sandbox.Images.Oci;

namespace Sandbox.Images.Layers;

/// <summary>A layer written from an upper directory.</summary>
/// <param name="Digest">The gzip blob's digest (the manifest's layer digest).</param>
/// <param name="DiffId">The uncompressed tar's digest (the config's diff id).</param>
/// <param name="CompressedBytes">Bytes of the blob.</param>
/// <param name="TarBytes">Bytes of the tar.</param>
/// <param name="Entries">Tar entries written (whiteouts and opaque markers included).</param>
/// <param name="Skipped">Nodes a tar cannot hold (sockets), left out.</param>
public sealed record LayerCommitResult(Digest Digest, Digest DiffId, long CompressedBytes, long TarBytes, int Entries, int Skipped);
