using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sandbox.Images;
using Sandbox.Images.Oci;

namespace Sandbox.Tests.Images;

/// <summary>Image references read as Docker reads them.</summary>
public sealed class ImageReferenceTests
{
    private const string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("busybox", "docker.io", "library/busybox", "latest", null)]
    [InlineData("busybox:1.36", "docker.io", "library/busybox", "1.36", null)]
    [InlineData("library/busybox", "docker.io", "library/busybox", "latest", null)]
    [InlineData("docker.io/busybox", "docker.io", "library/busybox", "latest", null)]
    [InlineData("index.docker.io/library/busybox", "docker.io", "library/busybox", "latest", null)]
    [InlineData("someone/app:v2", "docker.io", "someone/app", "v2", null)]
    [InlineData("ghcr.io/org/team/app:1.0", "ghcr.io", "org/team/app", "1.0", null)]
    [InlineData("localhost/app", "localhost", "app", "latest", null)]
    [InlineData("localhost:5000/app:dev", "localhost:5000", "app", "dev", null)]
    [InlineData("registry.example.com:443/a/b", "registry.example.com:443", "a/b", "latest", null)]
    [InlineData("[::1]:5000/app", "[::1]:5000", "app", "latest", null)]
    [InlineData("busybox@sha256:" + Hex, "docker.io", "library/busybox", null, "sha256:" + Hex)]
    [InlineData("busybox:1@sha256:" + Hex, "docker.io", "library/busybox", "1", "sha256:" + Hex)]
    [InlineData("org/a__b.c-d--e", "docker.io", "org/a__b.c-d--e", "latest", null)]
    [InlineData("docker.io/x.y/app", "docker.io", "x.y/app", "latest", null)]
    public void References_are_normalised_like_Dockers(string text, string registry, string repository, string? tag, string? digest)
    {
        var reference = ImageReference.Parse(text);

        Assert.Equal(registry, reference.Registry);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(tag, reference.Tag);
        Assert.Equal(digest, reference.Digest?.ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Busybox", "lowercase")]
    [InlineData("busybox:", "tag")]
    [InlineData("busybox:-x", "tag")]
    [InlineData("busybox@sha256:abc", "digest")]
    [InlineData("busybox@md5:" + Hex, "digest")]
    [InlineData("a//b", "component")]
    [InlineData("a/-b", "component")]
    [InlineData("a_/b", "component")]
    [InlineData(Hex, "image id")]
    [InlineData("exa_mple.com:x/app", "registry")]
    [InlineData("a__b.c/f", "registry")]
    public void Invalid_references_say_what_is_wrong(string text, string mentioned)
    {
        Assert.False(ImageReference.TryParse(text, out _, out string problem));
        Assert.Contains(mentioned, problem, StringComparison.OrdinalIgnoreCase);
        var e = Assert.Throws<FormatException>(() => ImageReference.Parse(text));
        Assert.Contains("Expected", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("busybox", "busybox:latest", "docker.io/library/busybox:latest")]
    [InlineData("someone/app:v2", "someone/app:v2", "docker.io/someone/app:v2")]
    [InlineData("ghcr.io/org/app:1", "ghcr.io/org/app:1", "ghcr.io/org/app:1")]
    [InlineData("library/a/b", "library/a/b:latest", "docker.io/library/a/b:latest")]
    [InlineData("docker.io/x.y/app", "docker.io/x.y/app:latest", "docker.io/x.y/app:latest")]
    public void The_familiar_and_canonical_forms(string text, string familiar, string canonical)
    {
        var reference = ImageReference.Parse(text);

        Assert.Equal(familiar, reference.FamiliarName);
        Assert.Equal(canonical, reference.ToString());
    }

    public static class Arbitraries
    {
        private static readonly Gen<string> Component = Gen.Elements("busybox", "a", "app-1", "x.y", "a__b", "org", "z9");

        public static Arbitrary<ImageReference> References() => Arb.From(
            from registry in Gen.Elements<string?>(null, "docker.io", "ghcr.io", "localhost:5000", "r.example.com")
            from path in Gen.ListOf(Component).Where(l => l.Count is > 0 and < 4)
            from tag in Gen.Elements<string?>(null, "latest", "1.36", "v_2-rc.1")
            from pinned in Gen.Elements(false, true)
            let text = (registry is null ? "" : registry + "/") + string.Join('/', path) + (tag is null ? "" : ":" + tag) + (pinned ? "@sha256:" + Hex : "")
            select ImageReference.Parse(text));
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public void The_canonical_and_familiar_forms_parse_back_to_the_same_reference(ImageReference reference)
    {
        Assert.Equal(reference, ImageReference.Parse(reference.ToString()));
        Assert.Equal(reference, ImageReference.Parse(reference.FamiliarName));
    }

    [Fact]
    public void Digests_parse_strictly()
    {
        Assert.Equal("sha256:" + Hex, Digest.Parse("sha256:" + Hex).ToString());
        Assert.False(Digest.TryParse("sha256:" + Hex.ToUpperInvariant(), out _, out _));
        Assert.False(Digest.TryParse("sha256:" + Hex[1..], out _, out _));
        Assert.False(Digest.TryParse(Hex, out _, out _));
        Assert.Equal("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Digest.Sha256Of([]).ToString());
    }
}
