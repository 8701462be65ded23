using Sandbox.Images.Oci;

namespace Sandbox.Benchmarks.Images;

/// <summary>What one written layer holds.</summary>
internal sealed record LayerFacts(string Name, Digest Digest, Digest DiffId, long CompressedBytes, long TarBytes, int Entries);
