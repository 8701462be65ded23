using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sandbox.Images.Layers;
using static Sandbox.Tests.Images.UpperDirectory;

namespace Sandbox.Tests.Images;

/// <summary>
/// Commit, then apply, over random upper directories (files, directories, opaque directories, symlinks, whiteouts) on
/// random lower trees: the committed layer applied onto the lower gives the tree overlayfs shows (lower merged under
/// upper); unpacked on its own in overlay format it gives back the upper directory.
/// </summary>
public sealed class CommitRoundTripPropertyTests
{
    private static readonly string[] Names = ["a", "b", "c"];

    /// <summary>Kinds of d/a..c and, for directories among them, of their children a..c: 0 absent, 1 file, 2 directory, 3 opaque directory, 4 symlink, 5 whiteout.</summary>
    public sealed record Upper(bool OpaqueRoot, int[] Kinds)
    {
        public void Build(string root)
        {
            Directory(root, "d", OpaqueRoot);
            for (int i = 0; i < 3; i++)
            {
                string top = "d/" + Names[i];
                if (!Make(root, top, Kinds[i])) continue;
                for (int j = 0; j < 3; j++)
                    Make(root, top + "/" + Names[j], Math.Min(Kinds[3 + (i * 3) + j], 5));
            }
        }

        /// <summary>Makes the node; true if it is a directory (children follow).</summary>
        private static bool Make(string root, string path, int kind)
        {
            switch (kind)
            {
                case 1: File(root, path, "upper:" + path); return false;
                case 2 or 3: Directory(root, path, opaque: kind == 3); return true;
                case 4: Symlink(root, path, "target-of-" + path.Replace('/', '-')); return false;
                case 5: Whiteout(root, path); return false;
                default: return false;
            }
        }

        public override string ToString() => $"opaque d: {OpaqueRoot}, kinds [{string.Join(",", Kinds)}]";
    }

    public static class Arbitraries
    {
        public static Arbitrary<WhiteoutPropertyTests.Tree> Trees() => WhiteoutPropertyTests.Arbitraries.Trees();

        public static Arbitrary<Upper> Uppers() => Arb.From(
            from opaque in Gen.Elements(true, false, false)
            from kinds in Gen.ArrayOf(Gen.Choose(0, 5), 12)
            select new Upper(opaque, kinds));
    }

    private static readonly LayerApplyOptions Applied = LayerApplyOptions.Rootless.WithWhiteouts(WhiteoutFormat.Apply);

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 80)]
    public void The_committed_layer_applied_onto_the_lower_gives_the_merged_view(WhiteoutPropertyTests.Tree lower, Upper upper)
    {
        using var scratch = new ScratchDirectory();
        string lowerDir = scratch.Make("lower");
        string upperDir = scratch.Make("upper");
        string applied = scratch.Make("applied");
        var lowerTar = lower.ToLayer("lower", new LayerTar().Directory("d/"));
        LayerApplierTests.Apply(lowerTar, lowerDir, LayerApplyOptions.Rootless);
        upper.Build(upperDir);

        var (blob, result) = Commit(upperDir);
        LayerApplierTests.Apply(lowerTar, applied, Applied);
        UpperDirectory.Apply(blob, result, applied, Applied);

        Assert.Equal(WhiteoutPropertyTests.Merge(TreeSnapshot.Of(lowerDir), TreeSnapshot.Of(upperDir)), TreeSnapshot.Of(applied));
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 80)]
    public void The_committed_layer_unpacked_in_overlay_format_is_the_upper_directory_again(Upper upper)
    {
        using var scratch = new ScratchDirectory();
        string upperDir = scratch.Make("upper");
        string unpacked = scratch.Make("unpacked");
        upper.Build(upperDir);

        var (blob, result) = Commit(upperDir);
        UpperDirectory.Apply(blob, result, unpacked, LayerApplyOptions.Rootless);
        var (again, _) = Commit(unpacked);

        Assert.Equal(TreeSnapshot.Of(upperDir), TreeSnapshot.Of(unpacked));
        Assert.Equal(Entries(blob).Select(e => e.Name), Entries(again).Select(e => e.Name));
    }
}
