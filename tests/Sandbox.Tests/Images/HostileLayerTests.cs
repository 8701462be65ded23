using Sandbox.Images;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;
using Sandbox.Images.Store;

namespace Sandbox.Tests.Images;

/// <summary>
/// Hostile and broken layers, imported through the store: each is a clear error naming the layer and the entry,
/// nothing lands outside the store, and nothing of the layer is left in it.
/// </summary>
public sealed class HostileLayerTests
{
    public sealed record Case(string Name, Func<OciLayoutWriter.Layer> Layer, LayerProblem Expected, string? Entry, LayerApplyOptions? Options = null)
    {
        public override string ToString() => Name;
    }

    private static OciLayoutWriter.Layer Plain(LayerTar tar, LayerCompression compression = LayerCompression.None)
    {
        var (blob, facts) = tar.ToBlob(compression);
        return new OciLayoutWriter.Layer(blob, facts);
    }

    public static TheoryData<Case> Cases() =>
    [
        new("traversal", () => Plain(new LayerTar().File("a/../../escaped", "x")), LayerProblem.PathTraversal, "a/../../escaped"),
        new("traversal at the start", () => Plain(new LayerTar().File("../escaped", "x")), LayerProblem.PathTraversal, "../escaped"),
        new("absolute path", () => Plain(new LayerTar().File("/tmp/escaped", "x")), LayerProblem.AbsolutePath, "/tmp/escaped"),
        new("symlink parent", () => Plain(new LayerTar().Symlink("evil", "../../../outside").File("evil/escaped", "x")), LayerProblem.SymlinkInPath, "evil/escaped"),
        new("absolute symlink parent", () => Plain(new LayerTar().Symlink("evil", "/tmp").File("evil/escaped", "x")), LayerProblem.SymlinkInPath, "evil/escaped"),
        new("symlink parent of a directory", () => Plain(new LayerTar().Symlink("evil", "/tmp").Directory("evil/sub/")), LayerProblem.SymlinkInPath, "evil/sub/"),
        new("hard link out by ..", () => Plain(new LayerTar().HardLink("passwd", "../../../../etc/passwd")), LayerProblem.HardLinkOutside, "passwd"),
        new("hard link out by absolute path", () => Plain(new LayerTar().HardLink("passwd", "/etc/passwd")), LayerProblem.HardLinkOutside, "passwd"),
        new("hard link through a symlink", () => Plain(new LayerTar().Symlink("etc", "/etc").HardLink("passwd", "etc/passwd")), LayerProblem.HardLinkOutside, "passwd"),
        new("hard link to nothing", () => Plain(new LayerTar().HardLink("passwd", "missing")), LayerProblem.HardLinkOutside, "passwd"),
        new("whiteout through a symlink", () => Plain(new LayerTar().Symlink("evil", "/tmp").Whiteout("evil", "x")), LayerProblem.SymlinkInPath, "evil/.wh.x"),
        new("whiteout through a symlink, applied", () => Plain(new LayerTar().Symlink("evil", "/tmp").Whiteout("evil", "x")), LayerProblem.SymlinkInPath, "evil/.wh.x",
            LayerApplierTests.Unprivileged.WithWhiteouts(WhiteoutFormat.Apply)),
        new("opaque marker through a symlink, applied", () => Plain(new LayerTar().Symlink("evil", "/tmp").Opaque("evil/sub")), LayerProblem.SymlinkInPath, "evil/sub/.wh..wh..opq",
            LayerApplierTests.Unprivileged.WithWhiteouts(WhiteoutFormat.Apply)),
        new("device when rejected", () => Plain(new LayerTar().CharacterDevice("dev/mem", 1, 1)), LayerProblem.DeviceNode, "dev/mem",
            LayerApplierTests.Unprivileged.WithDeviceNodes(DeviceNodePolicy.Reject)),
        new("huge entry count", () => Plain(Many(101)), LayerProblem.TooManyEntries, "f100",
            LayerApplierTests.Unprivileged.WithLimits(LayerLimits.Default.WithMaxEntries(100))),
        new("huge file", () => Plain(new LayerTar().File("big", new byte[4096])), LayerProblem.TooLarge, "big",
            LayerApplierTests.Unprivileged.WithLimits(LayerLimits.Default.WithMaxTotalBytes(4095))),
        new("decompression bomb", () => Plain(new LayerTar().File("zeros", new byte[8 << 20]), LayerCompression.Gzip), LayerProblem.TooLarge, null,
            LayerApplierTests.Unprivileged.WithLimits(new LayerLimits { MaxTotalBytes = 1 << 20, MaxEntries = 16 })),
        new("long path", () => Plain(new LayerTar().File(string.Join('/', Enumerable.Repeat("abcdefghij", 500)), "x")), LayerProblem.PathTooLong, null),
        new("long name", () => Plain(new LayerTar().File(new string('n', 300), "x")), LayerProblem.PathTooLong, new string('n', 300)),
        new("whiteout of nothing", () => Plain(new LayerTar().File("d/.wh.", "")), LayerProblem.InvalidPath, "d/.wh."),
        new("truncated gzip", () => Truncated(LayerCompression.Gzip), LayerProblem.Malformed, null),
        new("truncated zstd", () => Truncated(LayerCompression.Zstd), LayerProblem.Malformed, null),
        new("truncated tar", () => Truncated(LayerCompression.None), LayerProblem.Malformed, null),
        new("not a tar at all", () => Garbage(), LayerProblem.Malformed, null),
        new("gzip declared, tar given", () => Plain(new LayerTar().File("f", "x")) is var l ? l with { MediaType = MediaTypes.OciLayerTarGzip } : null!, LayerProblem.Malformed, null),
        new("wrong digest", () => Plain(new LayerTar().File("f", "x")) with { DeclaredDigest = Digest.Sha256Of("something else"u8) }, LayerProblem.DigestMismatch, null),
        new("wrong size", () => Plain(new LayerTar().File("f", "x")) is var l ? l with { DeclaredSize = l.Blob.Length - 1 } : null!, LayerProblem.DigestMismatch, null),
        new("wrong diff id", () => Plain(new LayerTar().File("f", "x"), LayerCompression.Gzip) with { DeclaredDiffId = Digest.Sha256Of("other"u8) }, LayerProblem.DiffIdMismatch, null),
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_hostile_or_broken_layer_is_a_clear_error_and_leaves_nothing_behind(Case test)
    {
        using var scratch = new ScratchDirectory();
        string outside = scratch.Make("outside");
        string layout = scratch.Make("layout");
        var layer = test.Layer();
        // Served from where the layout says it is: a declared digest that differs names a blob file that holds the real bytes.
        OciLayoutWriter.Write(layout, "latest", [layer]);
        if (layer.DeclaredDigest is { } declared)
            File.Copy(Path.Combine(layout, "blobs", "sha256", layer.Facts.Digest.Encoded), Path.Combine(layout, "blobs", "sha256", declared.Encoded));
        var store = ImageStore.Open(new ImageStoreOptions { Root = scratch.Combine("store"), Layers = test.Options ?? LayerApplierTests.Unprivileged });
        using var source = ImageSource.Open(layout);
        var before = Listing(scratch.Path, except: "store");

        var e = await Assert.ThrowsAsync<LayerException>(() => store.ImportAsync(source, ImageReference.Parse("test/hostile")));

        Assert.Equal(test.Expected, e.Kind);
        Assert.Equal(layer.DeclaredDigest ?? layer.Facts.Digest, e.Layer);
        if (test.Entry is not null) Assert.Equal(test.Entry, e.Entry);
        Assert.Contains(e.Layer.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains("Fix:", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Listing(scratch.Path, except: "store"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch.Combine("store", "layers", "sha256")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch.Combine("store", "tmp")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch.Combine("store", "images")));
        Assert.Empty(store.ListImages());
        Assert.False(File.Exists("/tmp/escaped"));
    }

    [Fact]
    public async Task A_device_node_imported_rootless_is_skipped_with_a_note_and_the_rest_is_imported()
    {
        using var scratch = new ScratchDirectory();
        string layout = scratch.Make("layout");
        OciLayoutWriter.Write(layout, "latest", [Plain(new LayerTar().CharacterDevice("dev/mem", 1, 1).File("ok", "1"))]);
        var store = ImageStore.Open(new ImageStoreOptions { Root = scratch.Combine("store"), Layers = LayerApplierTests.Unprivileged });
        using var source = ImageSource.Open(layout);

        var image = await store.ImportAsync(source, ImageReference.Parse("test/devices"));

        var layer = store.FindLayer(image.Layers[0])!;
        Assert.Equal(1, layer.Notes);
        Assert.False(File.Exists(Path.Combine(layer.Directory, "dev", "mem")));
        Assert.True(File.Exists(Path.Combine(layer.Directory, "ok")));
    }

    private static LayerTar Many(int count)
    {
        var tar = new LayerTar();
        for (int i = 0; i < count; i++) tar.File($"f{i}", "");
        return tar;
    }

    private static OciLayoutWriter.Layer Truncated(LayerCompression compression)
    {
        var tar = new LayerTar().File("a", new byte[200_000]).File("b", new byte[200_000]);
        byte[] whole = LayerTar.Compress(tar.ToTar(), compression);
        byte[] cut = whole[..(compression == LayerCompression.None ? 100_000 : whole.Length / 2)];
        var facts = new LayerBlob(Digest.Sha256Of(cut), cut.Length, compression, Digest.Sha256Of(tar.ToTar()));
        return new OciLayoutWriter.Layer(cut, facts);
    }

    private static OciLayoutWriter.Layer Garbage()
    {
        byte[] junk = new byte[5000];
        new Random(7).NextBytes(junk);
        var digest = Digest.Sha256Of(junk);
        return new OciLayoutWriter.Layer(junk, new LayerBlob(digest, junk.Length, LayerCompression.None, digest));
    }

    private static List<string> Listing(string root, string except) =>
        [.. Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(p => Path.GetRelativePath(root, p))
            .Where(p => p != except && !p.StartsWith(except + "/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];
}
