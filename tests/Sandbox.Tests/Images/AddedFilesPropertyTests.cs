using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sandbox.Images.Layers;
using static Sandbox.Tests.Images.UpperDirectory;

namespace Sandbox.Tests.Images;

/// <summary>
/// Runtime files a program changed, added to a committed layer from outside the upper directory
/// (<see cref="LayerCommitOptions.AddedFiles"/>), over random upper directories: each is in the layer once, with its own
/// contents, in place of what the upper directory has there; the upper's entries are all there otherwise; a directory gets an
/// entry only if the upper directory has it; the order is the walk's (names sorted in each directory, a directory before
/// what it holds), so the same changes give the same digests.
/// </summary>
public sealed class AddedFilesPropertyTests
{
    private static readonly string[] UpperFiles = ["a", "etc/x", "etc/hosts", "var/y", "zz"];
    private static readonly string[] AddedPaths = ["etc/hosts", "etc/resolv.conf", "var/lib/z", "b"];

    public sealed record Case(bool[] Upper, bool[] Added)
    {
        public override string ToString() =>
            $"upper [{string.Join(",", UpperFiles.Where((_, i) => Upper[i]))}], added [{string.Join(",", AddedPaths.Where((_, i) => Added[i]))}]";
    }

    public static class Arbitraries
    {
        public static Arbitrary<Case> Cases() => Arb.From(
            from upper in Gen.ArrayOf(Gen.Elements(true, false), UpperFiles.Length)
            from added in Gen.ArrayOf(Gen.Elements(true, false), AddedPaths.Length)
            select new Case(upper, added));
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 60)]
    public void Added_files_replace_the_upper_s_and_keep_the_walk_order(Case test)
    {
        using var scratch = new ScratchDirectory();
        string upper = scratch.Make("upper");
        string host = scratch.Make("host");
        var upperFiles = UpperFiles.Where((_, i) => test.Upper[i]).ToList();
        var added = AddedPaths.Where((_, i) => test.Added[i]).ToList();
        foreach (var path in upperFiles)
        {
            if (path.Contains('/', StringComparison.Ordinal)) Directory(upper, path[..path.IndexOf('/', StringComparison.Ordinal)]);
            File(upper, path, "upper:" + path);
        }
        foreach (var path in added)
            File(host, path.Replace('/', '_'), "added:" + path);

        var options = Rootless.WithAddedFiles(added.Select(p => (p, Path.Combine(host, p.Replace('/', '_')))));
        var entries = Entries(Commit(upper, options).Blob);

        var upperDirectories = upperFiles.Where(p => p.Contains('/', StringComparison.Ordinal)).Select(p => p[..p.IndexOf('/', StringComparison.Ordinal)] + "/").Distinct();
        var expected = upperFiles.Union(added).Concat(upperDirectories).OrderBy(p => p.TrimEnd('/').Split('/'), ComponentOrder.Instance).ToArray();
        Assert.Equal(expected, entries.Select(e => e.Name).ToArray());
        foreach (var entry in entries.Where(e => e.EntryType == System.Formats.Tar.TarEntryType.RegularFile))
            Assert.Equal((added.Contains(entry.Name) ? "added:" : "upper:") + entry.Name, new StreamReader(entry.DataStream!).ReadToEnd());
    }

    /// <summary>Paths compared component by component, ordinally: the order of a depth-first walk with sorted names.</summary>
    private sealed class ComponentOrder : IComparer<string[]>
    {
        public static readonly ComponentOrder Instance = new();

        public int Compare(string[]? x, string[]? y)
        {
            for (int i = 0; i < Math.Min(x!.Length, y!.Length); i++)
                if (string.CompareOrdinal(x[i], y[i]) is var c and not 0) return c;
            return x.Length.CompareTo(y.Length);
        }
    }
}
