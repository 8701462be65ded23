using System.Security.Cryptography;

namespace Sandbox.Images.Oci;

/// <summary>
/// A content digest, <c>algorithm:encoded</c> (OCI image spec, descriptor.md): sha256 (64 lowercase hex
/// digits) or sha512 (128). Blobs, layers and images are addressed by it.
/// </summary>
public readonly record struct Digest : IComparable<Digest>
{
    private Digest(string algorithm, string encoded)
    {
        Algorithm = algorithm;
        Encoded = encoded;
    }

    /// <summary>The algorithm: <c>sha256</c> or <c>sha512</c>.</summary>
    public string Algorithm { get; }

    /// <summary>The hex digits.</summary>
    public string Encoded { get; }

    /// <summary>The first 12 hex digits, for messages and listings.</summary>
    public string Short => Encoded is null ? "" : Encoded[..Math.Min(12, Encoded.Length)];

    /// <summary>Parses <c>sha256:…</c>; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static Digest Parse(string text) =>
        TryParse(text, out var digest, out var problem) ? digest : throw new FormatException($"'{text}' is not a digest: {problem}.");

    /// <summary>Parses a digest; false with the problem if it is not one.</summary>
    public static bool TryParse(string? text, out Digest digest, out string problem)
    {
        digest = default;
        if (string.IsNullOrEmpty(text))
        {
            problem = "it is empty";
            return false;
        }
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            problem = "it has no 'algorithm:' prefix";
            return false;
        }
        string algorithm = text[..colon];
        string encoded = text[(colon + 1)..];
        int length = algorithm switch { "sha256" => 64, "sha512" => 128, _ => -1 };
        if (length < 0)
        {
            problem = $"the algorithm '{algorithm}' is not supported (sha256 or sha512)";
            return false;
        }
        if (encoded.Length != length || !encoded.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
        {
            problem = $"{algorithm} needs {length} lowercase hex digits";
            return false;
        }
        problem = "";
        digest = new Digest(algorithm, encoded);
        return true;
    }

    /// <summary>The sha256 digest of <paramref name="content"/>.</summary>
    public static Digest Sha256Of(ReadOnlySpan<byte> content) => FromHash("sha256", SHA256.HashData(content));

    /// <summary>A digest from a finished hash.</summary>
    public static Digest FromHash(string algorithm, ReadOnlySpan<byte> hash) =>
        new(algorithm, Convert.ToHexStringLower(hash));

    /// <summary>A fresh incremental hash for this digest's algorithm.</summary>
    public IncrementalHash CreateHash() => IncrementalHash.CreateHash(Algorithm == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);

    /// <summary>Orders by algorithm, then hex digits (ordinal).</summary>
    public int CompareTo(Digest other) => string.CompareOrdinal(ToString(), other.ToString());

    /// <inheritdoc/>
    public override string ToString() => Algorithm is null ? "" : $"{Algorithm}:{Encoded}";
}
