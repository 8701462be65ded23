using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sandbox.Images.Layers;

namespace Sandbox.Tests.Images;

/// <summary>Tar entry names to layer paths: normalisation never escapes the layer directory.</summary>
public sealed class LayerEntryPathTests
{
    public sealed record EntryName(string Value)
    {
        public override string ToString() => $"\"{Value}\"";
    }

    public static class Arbitraries
    {
        private static readonly Gen<string> Piece = Gen.Frequency(
            (4, Gen.Elements("etc", "a", "b", "..a", "a..", "...", ".wh.x", "ü", " ", "x\\y")),
            (3, Gen.Constant("..")), (2, Gen.Constant(".")), (2, Gen.Constant("")));

        public static Arbitrary<EntryName> Names() => Arb.From(
            from absolute in Gen.Elements("", "", "/", "./", "//")
            from pieces in Gen.NonEmptyListOf(Piece)
            from trailing in Gen.Elements("", "/")
            select new EntryName(absolute + string.Join('/', pieces) + trailing));
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 500)]
    public void A_normalised_entry_path_never_leaves_the_layer_directory(EntryName name)
    {
        const string Layer = "/store/layers/x/diff";

        if (!LayerEntryPath.TryNormalize(name.Value, LayerLimits.Default, out string relative, out _, out _))
            return;

        Assert.False(relative.StartsWith('/'));
        Assert.DoesNotContain(relative.Split('/'), c => c is "." or ".." || (c.Length == 0 && relative.Length > 0));
        string full = Path.GetFullPath(Path.Combine(Layer, relative));
        Assert.True(full == Layer || full.StartsWith(Layer + "/", StringComparison.Ordinal), full);
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 500)]
    public void A_name_is_rejected_exactly_when_it_is_absolute_or_has_a_dotdot_component(EntryName name)
    {
        bool accepted = LayerEntryPath.TryNormalize(name.Value, LayerLimits.Default, out _, out var problem, out _);

        bool absolute = name.Value.StartsWith('/');
        bool climbs = name.Value.Split('/').Contains("..");
        Assert.Equal(name.Value.Length > 0 && !absolute && !climbs, accepted);
        if (absolute) Assert.Equal(LayerProblem.AbsolutePath, problem);
        else if (climbs) Assert.Equal(LayerProblem.PathTraversal, problem);
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public void Normalising_is_idempotent(EntryName name)
    {
        if (!LayerEntryPath.TryNormalize(name.Value, LayerLimits.Default, out string once, out _, out _)) return;
        if (once.Length == 0) return;

        Assert.True(LayerEntryPath.TryNormalize(once, LayerLimits.Default, out string twice, out _, out _));
        Assert.Equal(once, twice);
    }

    [Theory]
    [InlineData("./etc/passwd", "etc/passwd")]
    [InlineData("etc//passwd/", "etc/passwd")]
    [InlineData("./", "")]
    [InlineData("a/./b", "a/b")]
    public void Tar_spellings_are_accepted(string name, string expected)
    {
        Assert.True(LayerEntryPath.TryNormalize(name, LayerLimits.Default, out string relative, out _, out _));
        Assert.Equal(expected, relative);
    }

    [Theory]
    [InlineData("", LayerProblem.InvalidPath)]
    [InlineData("a\0b", LayerProblem.InvalidPath)]
    [InlineData("/etc/passwd", LayerProblem.AbsolutePath)]
    [InlineData("a/../../b", LayerProblem.PathTraversal)]
    [InlineData("a/..", LayerProblem.PathTraversal)]
    public void Hostile_names_are_rejected_with_the_reason(string name, LayerProblem expected)
    {
        Assert.False(LayerEntryPath.TryNormalize(name, LayerLimits.Default, out _, out var problem, out string reason));
        Assert.Equal(expected, problem);
        Assert.NotEmpty(reason);
    }

    [Theory]
    [InlineData("foo", WhiteoutKind.None, "")]
    [InlineData(".wh.foo", WhiteoutKind.Whiteout, "foo")]
    [InlineData(".wh..wh..opq", WhiteoutKind.Opaque, "")]
    [InlineData(".wh..wh.plnk", WhiteoutKind.Metadata, "")]
    [InlineData(".wh.", WhiteoutKind.Invalid, "")]
    [InlineData(".wh...", WhiteoutKind.Invalid, "")]
    public void Whiteout_names_are_classified(string name, WhiteoutKind kind, string target)
    {
        Assert.Equal(kind, Whiteouts.Classify(name, out string hidden));
        Assert.Equal(target, hidden);
    }
}
