using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sandbox.RootFs;

namespace Sandbox.Tests.RootFs;

/// <summary>Lexical path normalisation and confinement: the sandbox's answer to "where does this path lead".</summary>
public sealed class SandboxPathTests
{
    /// <summary>A path made of hostile pieces: "..", ".", empty components, repeated and trailing slashes, real names.</summary>
    public sealed record HostilePath(string Value)
    {
        public override string ToString() => $"\"{Value}\"";
    }

    /// <summary>A relative path that tries to climb out: it starts with more ".." than the base it is joined to is deep.</summary>
    public sealed record Escape(string Base, string Relative)
    {
        public override string ToString() => $"\"{Base}\" + \"{Relative}\"";
    }

    public static class Arbitraries
    {
        private static readonly Gen<string> Name = Gen.Elements("etc", "passwd", "a", "b", "..a", "a..", "...", ".hidden", "ü", "𝄞", " ");

        private static readonly Gen<string> Piece = Gen.Frequency(
            (3, Name), (3, Gen.Constant("..")), (1, Gen.Constant(".")), (1, Gen.Constant("")));

        public static Arbitrary<HostilePath> HostilePaths() => Arb.From(
            from absolute in Gen.Elements(true, false)
            from pieces in Gen.ListOf(Piece)
            from trailing in Gen.Elements("", "/", "//")
            select new HostilePath((absolute ? "/" : "") + string.Join('/', pieces) + trailing));

        public static Arbitrary<Escape> Escapes() => Arb.From(
            from depth in Gen.Choose(0, 5)
            from names in Gen.ListOf(Name, depth)
            from extra in Gen.Choose(1, 4)
            from tail in Gen.ListOf(Name, 2)
            select new Escape(
                SandboxPath.Normalize("/" + string.Join('/', names)),
                string.Join('/', Enumerable.Repeat("..", depth + extra).Concat(tail))));
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void Normalizing_twice_gives_the_same_path(HostilePath path)
    {
        string once = SandboxPath.Normalize(path.Value);

        Assert.Equal(once, SandboxPath.Normalize(once));
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void A_normalized_path_is_absolute_with_no_empty_dot_or_dotdot_component_and_no_trailing_slash(HostilePath path)
    {
        string normalized = SandboxPath.Normalize(path.Value);

        Assert.StartsWith("/", normalized, StringComparison.Ordinal);
        if (normalized != "/")
        {
            Assert.DoesNotContain(normalized[1..].Split('/'), c => c is "" or "." or "..");
            Assert.False(normalized.EndsWith('/'), normalized);
        }
        Assert.True(SandboxPath.IsWithin(normalized, "/"));
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void Climbing_above_the_root_is_clamped_at_the_root(HostilePath path, PositiveInt climbs)
    {
        string climbing = string.Concat(Enumerable.Repeat("../", climbs.Get % 50)) + path.Value;

        Assert.Equal(SandboxPath.Normalize(path.Value), SandboxPath.Normalize(climbing));
        Assert.Equal(SandboxPath.Normalize(path.Value), SandboxPath.Normalize("/" + climbing));
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void A_hostile_relative_path_joined_to_a_base_stays_within_the_root_and_lands_where_its_tail_says(Escape escape)
    {
        string joined = SandboxPath.Normalize(escape.Base + "/" + escape.Relative);
        string tail = string.Join('/', escape.Relative.Split('/').SkipWhile(p => p == ".."));

        Assert.True(SandboxPath.IsWithin(joined, "/"));
        Assert.Equal(SandboxPath.Normalize("/" + tail), joined);
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void A_normalized_path_is_within_each_of_its_ancestors(HostilePath path)
    {
        string normalized = SandboxPath.Normalize(path.Value);

        foreach (var ancestor in SandboxPath.Ancestors(normalized))
        {
            Assert.True(SandboxPath.IsWithin(normalized, ancestor), $"{normalized} within {ancestor}");
            Assert.False(SandboxPath.IsWithin(ancestor, normalized), $"{ancestor} within {normalized}");
        }
    }

    [Theory]
    [InlineData("/", "/")]
    [InlineData("", "/")]
    [InlineData("//a//b/", "/a/b")]
    [InlineData("a/./b", "/a/b")]
    [InlineData("/a/b/../c", "/a/c")]
    [InlineData("/../../etc/passwd", "/etc/passwd")]
    [InlineData("/tmp/../../../etc", "/etc")]
    [InlineData("/a/..b/c..", "/a/..b/c..")]
    [InlineData("/.../x", "/.../x")]
    public void Normalizing_drops_empty_and_dot_components_and_resolves_dotdot_lexically(string path, string expected)
    {
        Assert.Equal(expected, SandboxPath.Normalize(path));
    }

    [Theory]
    [InlineData("/a/b/c", new[] { "/a", "/a/b" })]
    [InlineData("/a", new string[0])]
    [InlineData("/", new string[0])]
    public void Ancestors_are_listed_outermost_first_without_the_root_or_the_path_itself(string path, string[] expected)
    {
        Assert.Equal(expected, SandboxPath.Ancestors(path));
    }

    [Theory]
    [InlineData("/", ".")]
    [InlineData("/etc", "etc")]
    [InlineData("/dev/pts", "dev/pts")]
    public void Relative_drops_the_leading_slash_and_names_the_root_dot(string path, string expected)
    {
        Assert.Equal(expected, SandboxPath.Relative(path));
    }

    [Theory]
    [InlineData("/dev", "/dev", true)]
    [InlineData("/dev/shm", "/dev", true)]
    [InlineData("/dev2", "/dev", false)]
    [InlineData("/devices/x", "/dev", false)]
    [InlineData("/", "/dev", false)]
    [InlineData("/anything", "/", true)]
    [InlineData("/proc/self", "/proc/self/fd", false)]
    public void IsWithin_compares_whole_components(string path, string ancestor, bool within)
    {
        Assert.Equal(within, SandboxPath.IsWithin(path, ancestor));
    }

    [Fact]
    public void Problem_flags_an_empty_or_null_path()
    {
        Assert.Equal("is empty", SandboxPath.Problem("", mustBeAbsolute: false));
        Assert.Equal("is empty", SandboxPath.Problem(null, mustBeAbsolute: true));
    }

    [Fact]
    public void Problem_flags_a_NUL()
    {
        Assert.Contains("NUL", SandboxPath.Problem("/a\0b", mustBeAbsolute: true), StringComparison.Ordinal);
    }

    [Fact]
    public void Problem_flags_a_relative_path_only_when_an_absolute_one_is_required()
    {
        Assert.Contains("not absolute", SandboxPath.Problem("data/x", mustBeAbsolute: true), StringComparison.Ordinal);
        Assert.Null(SandboxPath.Problem("data/x", mustBeAbsolute: false));
    }

    [Fact]
    public void Problem_flags_a_path_longer_than_the_limit_in_UTF8_bytes()
    {
        string atLimit = "/" + string.Join('/', Enumerable.Repeat(new string('a', 199), 20))[..(SandboxPath.MaxLength - 1)];
        string twoByteChars = "/" + string.Join('/', Enumerable.Repeat(new string('é', 100), 20));

        Assert.Equal(SandboxPath.MaxLength, atLimit.Length);
        Assert.Null(SandboxPath.Problem(atLimit, mustBeAbsolute: true));
        Assert.Contains("longer than", SandboxPath.Problem(atLimit + "a", mustBeAbsolute: true), StringComparison.Ordinal);
        Assert.True(twoByteChars.Length < SandboxPath.MaxLength);
        Assert.Contains("longer than", SandboxPath.Problem(twoByteChars, mustBeAbsolute: true), StringComparison.Ordinal);
    }

    [Fact]
    public void Problem_flags_a_component_longer_than_255_bytes()
    {
        Assert.Null(SandboxPath.Problem("/" + new string('a', 255), mustBeAbsolute: true));
        Assert.Contains("component", SandboxPath.Problem("/" + new string('a', 256), mustBeAbsolute: true), StringComparison.Ordinal);
        Assert.Contains("component", SandboxPath.Problem("/" + new string('é', 128), mustBeAbsolute: true), StringComparison.Ordinal);
    }

    [Fact]
    public void Problem_accepts_an_ordinary_path()
    {
        Assert.Null(SandboxPath.Problem("/home/user/data", mustBeAbsolute: true));
    }
}
