using Sandbox.Images.Oci;

namespace Sandbox.Images;

/// <summary>
/// An image could not be read, imported or found: what went wrong, the image (reference or source) and the
/// blob involved, and how to fix it.
/// </summary>
public class ImageException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    public ImageException(string problem, string? image, Digest? digest, string fix, Exception? innerException = null)
        : base(Format(problem, image, digest, fix), innerException)
    {
        Problem = problem;
        Image = image;
        Digest = digest;
        Fix = fix;
    }

    /// <summary>What is wrong, in a sentence.</summary>
    public string Problem { get; }

    /// <summary>The image reference or source path, if known.</summary>
    public string? Image { get; }

    /// <summary>The blob (manifest, config or layer) involved, if any.</summary>
    public Digest? Digest { get; }

    /// <summary>What to do about it.</summary>
    public string Fix { get; }

    private static string Format(string problem, string? image, Digest? digest, string fix)
    {
        string where = (image, digest) switch
        {
            (null, null) => "",
            (not null, null) => $"Image '{image}': ",
            (null, { } d) => $"Blob {d}: ",
            var (i, d) => $"Image '{i}', blob {d}: ",
        };
        return $"{where}{problem} Fix: {fix}";
    }
}
