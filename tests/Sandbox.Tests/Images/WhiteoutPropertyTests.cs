using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sandbox.Images.Layers;

namespace Sandbox.Tests.Images;

/// <summary>
/// Whiteout semantics as properties over random trees: an opaque marker is the same as a whiteout for every
/// lower child; the marker's position in the tar does not matter; and overlayfs' on-disk format, read the way
/// overlayfs reads it, gives the same tree as applying the layer.
/// </summary>
public sealed class WhiteoutPropertyTests
{
    private static readonly string[] Names = ["a", "b", "c"];

    /// <summary>A small tree under "d": top-level names a, b, c, each absent, a file or a directory with up to three children.</summary>
    public sealed record Tree(int[] Kinds)
    {
        public IEnumerable<(string Path, bool Directory)> Nodes()
        {
            for (int i = 0; i < 3; i++)
            {
                string top = "d/" + Names[i];
                if (Kinds[i] == 0) continue;
                if (Kinds[i] == 1)
                {
                    yield return (top, false);
                    continue;
                }
                yield return (top, true);
                for (int j = 0; j < 3; j++)
                {
                    int kind = Kinds[3 + (i * 3) + j];
                    if (kind != 0) yield return (top + "/" + Names[j], kind == 2);
                }
            }
        }

        /// <summary>Entries for the tree, parents first; file contents say which layer wrote them.</summary>
        public LayerTar ToLayer(string content, LayerTar? start = null)
        {
            var tar = start ?? new LayerTar();
            foreach (var (path, directory) in Nodes())
                tar = directory ? tar.Directory(path + "/") : tar.File(path, content + ":" + path);
            return tar;
        }

        public IEnumerable<string> TopLevel => Nodes().Where(n => n.Path.Count(c => c == '/') == 1).Select(n => n.Path["d/".Length..]);

        public override string ToString() => string.Join(" ", Nodes().Select(n => n.Directory ? n.Path + "/" : n.Path));
    }

    /// <summary>Whiteouts: for each of d/a..c and d/X/a..c, whether to white it out, and whether d and each d/X is opaque.</summary>
    public sealed record Removals(bool[] WhiteOut, bool[] Opaque)
    {
        public override string ToString() =>
            $"whiteouts [{string.Join(",", WhiteOut.Select((w, i) => w ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) : null).OfType<string>())}] opaque [{string.Join(",", Opaque.Select((o, i) => o ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) : null).OfType<string>())}]";
    }

    public static class Arbitraries
    {
        public static Arbitrary<Tree> Trees() => Arb.From(Gen.ArrayOf(Gen.Choose(0, 2), 12).Select(k => new Tree(k)));

        public static Arbitrary<Removals> Removal() => Arb.From(
            from w in Gen.ArrayOf(Gen.Elements(true, false, false), 12)
            from o in Gen.ArrayOf(Gen.Elements(true, false, false), 4)
            select new Removals(w, o));
    }

    private static readonly LayerApplyOptions Applied = LayerApplierTests.Unprivileged.WithWhiteouts(WhiteoutFormat.Apply);

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 60)]
    public void An_opaque_marker_equals_a_whiteout_for_every_lower_child(Tree lower, Tree layer, NonNegativeInt position)
    {
        using var scratch = new ScratchDirectory();
        string withMarker = scratch.Make("marker");
        string withWhiteouts = scratch.Make("whiteouts");
        var lowerTar = lower.ToLayer("lower", new LayerTar().Directory("d/"));
        var contents = layer.ToLayer("upper", new LayerTar().Directory("d/"));
        var marked = Insert(contents, new LayerTar().Opaque("d"), position.Get);
        var explicitWhiteouts = contents;
        foreach (var child in lower.TopLevel)
            explicitWhiteouts = explicitWhiteouts.Then(new LayerTar().Whiteout("d", child));

        foreach (var (dir, tar) in new[] { (withMarker, marked), (withWhiteouts, explicitWhiteouts) })
        {
            LayerApplierTests.Apply(lowerTar, dir, Applied);
            LayerApplierTests.Apply(tar, dir, Applied);
        }

        Assert.Equal(TreeSnapshot.Of(withWhiteouts), TreeSnapshot.Of(withMarker));
        Assert.DoesNotContain(TreeSnapshot.Of(withMarker).Values, v => v.StartsWith("file 644 lower", StringComparison.Ordinal));
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 60)]
    public void The_opaque_markers_position_in_the_tar_does_not_matter(Tree lower, Tree layer, NonNegativeInt first, NonNegativeInt second, bool overlay)
    {
        using var scratch = new ScratchDirectory();
        string one = scratch.Make("one");
        string two = scratch.Make("two");
        var options = overlay ? LayerApplierTests.Unprivileged : Applied;
        var lowerTar = lower.ToLayer("lower", new LayerTar().Directory("d/"));
        var contents = layer.ToLayer("upper", new LayerTar().Directory("d/"));

        foreach (var (dir, position) in new[] { (one, first.Get), (two, second.Get) })
        {
            if (!overlay) LayerApplierTests.Apply(lowerTar, dir, options);
            LayerApplierTests.Apply(Insert(contents, new LayerTar().Opaque("d"), position), dir, options);
        }

        Assert.Equal(TreeSnapshot.Of(one, withTimes: true), TreeSnapshot.Of(two, withTimes: true));
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 60)]
    public void Overlay_format_read_as_overlayfs_reads_it_equals_the_applied_layer(Tree lower, Tree layer, Removals removals, NonNegativeInt shuffle)
    {
        using var scratch = new ScratchDirectory();
        string applied = scratch.Make("applied");
        string lowerDir = scratch.Make("lower");
        string upperDir = scratch.Make("upper");
        var lowerTar = lower.ToLayer("lower", new LayerTar().Directory("d/"));
        var layerTar = WithRemovals(layer.ToLayer("upper", new LayerTar().Directory("d/")), layer, removals, shuffle.Get);

        LayerApplierTests.Apply(lowerTar, applied, Applied);
        LayerApplierTests.Apply(layerTar, applied, Applied);
        LayerApplierTests.Apply(lowerTar, lowerDir, LayerApplierTests.Unprivileged);
        LayerApplierTests.Apply(layerTar, upperDir, LayerApplierTests.Unprivileged);

        Assert.Equal(TreeSnapshot.Of(applied), Merge(TreeSnapshot.Of(lowerDir), TreeSnapshot.Of(upperDir)));
    }

    /// <summary>overlayfs' lookup over one lower and one upper: a 0/0 device hides the name, an opaque or non-directory upper hides what is beneath.</summary>
    internal static SortedDictionary<string, string> Merge(SortedDictionary<string, string> lower, SortedDictionary<string, string> upper)
    {
        var merged = new SortedDictionary<string, string>(lower, StringComparer.Ordinal);
        foreach (var (path, line) in upper)
        {
            bool hidesBelow = line == "chr 0:0" || !line.StartsWith("dir", StringComparison.Ordinal) || line.Contains("overlay.opaque=y", StringComparison.Ordinal);
            if (hidesBelow)
                foreach (var below in merged.Keys.Where(k => k.StartsWith(path + "/", StringComparison.Ordinal)).ToList())
                    merged.Remove(below);
            if (line == "chr 0:0") merged.Remove(path);
            else merged[path] = line.Replace(" user.overlay.opaque=y", "", StringComparison.Ordinal);
        }
        // A name under a whited-out or replaced directory that only the upper has stays; one only the lower has went above.
        return merged;
    }

    private static LayerTar WithRemovals(LayerTar contents, Tree layer, Removals removals, int shuffle)
    {
        var extra = new LayerTar();
        for (int i = 0; i < 3; i++)
        {
            if (removals.WhiteOut[i]) extra.Whiteout("d", Names[i]);
            for (int j = 0; j < 3; j++)
                if (removals.WhiteOut[3 + (i * 3) + j] && layer.Nodes().Any(n => n.Path == "d/" + Names[i] && n.Directory))
                    extra.Whiteout("d/" + Names[i], Names[j]);
        }
        if (removals.Opaque[0]) extra.Opaque("d");
        for (int i = 0; i < 3; i++)
            if (removals.Opaque[1 + i] && layer.Nodes().Any(n => n.Path == "d/" + Names[i] && n.Directory))
                extra.Opaque("d/" + Names[i]);
        // Each removal goes anywhere after its directory's own entry (as tar writers order them), picked by the seed.
        var result = contents;
        var rng = new Random(shuffle);
        for (int k = 0; k < extra.Count; k++)
        {
            string parent = extra.Names[k][..(extra.Names[k].LastIndexOf('/') + 1)];
            int after = result.Names.ToList().IndexOf(parent) + 1;
            result = Insert(result, extra.Reordered([k]), after + rng.Next(result.Count - after + 1));
        }
        return result;
    }

    private static LayerTar Insert(LayerTar tar, LayerTar entry, int position)
    {
        int at = position % (tar.Count + 1);
        var order = Enumerable.Range(0, tar.Count).ToList();
        var combined = tar.Then(entry);
        order.Insert(at, tar.Count);
        return combined.Reordered(order);
    }
}
