using Sandbox.Images.Oci;

namespace Sandbox.Images.Registry;

/// <summary>How far the download of one blob is.</summary>
/// <param name="Digest">The blob.</param>
/// <param name="MediaType">Its media type (a layer, a config).</param>
/// <param name="BytesRead">Bytes received and hashed so far.</param>
/// <param name="Size">The size its descriptor gives.</param>
/// <param name="Completed">True once every byte arrived and the digest matched.</param>
public sealed record BlobProgress(Digest Digest, string MediaType, long BytesRead, long Size, bool Completed);
