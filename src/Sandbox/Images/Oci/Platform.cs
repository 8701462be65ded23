using System.Runtime.InteropServices;

namespace Sandbox.Images.Oci;

/// <summary>The platform an image is built for (GOARCH/GOOS names: amd64, arm64, linux).</summary>
/// <param name="Architecture">e.g. <c>amd64</c>, <c>arm64</c>.</param>
/// <param name="Os">e.g. <c>linux</c>.</param>
/// <param name="Variant">e.g. <c>v8</c> for arm64, or null.</param>
public sealed record Platform(string Architecture, string Os, string? Variant = null)
{
    /// <summary>The platform of this process: linux and its architecture.</summary>
    public static Platform Host { get; } = new(
        RuntimeInformation.ProcessArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "amd64",
            System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
            System.Runtime.InteropServices.Architecture.Arm => "arm",
            System.Runtime.InteropServices.Architecture.X86 => "386",
            var other => other.ToString().ToLowerInvariant(),
        },
        "linux");

    /// <summary>True if an image for <paramref name="candidate"/> runs here (a variant is compared only when both name one).</summary>
    public bool Accepts(Platform candidate) =>
        candidate.Architecture == Architecture && candidate.Os == Os &&
        (Variant is null || candidate.Variant is null || candidate.Variant == Variant);

    /// <inheritdoc/>
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";
}
