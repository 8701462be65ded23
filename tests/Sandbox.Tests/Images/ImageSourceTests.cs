using System.Formats.Tar;
using Sandbox.Images;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;
using Sandbox.Images.Store;

namespace Sandbox.Tests.Images;

/// <summary>Reading images from layouts, archives and plain directories; picking one; refusing broken ones.</summary>
public sealed class ImageSourceTests
{
    private static OciLayoutWriter.Layer Layer(LayerTar tar, LayerCompression compression = LayerCompression.Gzip)
    {
        var (blob, facts) = tar.ToBlob(compression);
        return new OciLayoutWriter.Layer(blob, facts);
    }

    [Fact]
    public void A_layout_resolves_to_its_manifest_and_config_by_tag_or_alone()
    {
        using var scratch = new ScratchDirectory();
        string layout = scratch.Make("layout");
        OciLayoutWriter.Write(layout, "1.0", [Layer(new LayerTar().File("a", "1")), Layer(new LayerTar().File("b", "2"), LayerCompression.Zstd)]);

        using var source = ImageSource.Open(layout);
        var alone = source.Resolve();
        var byTag = source.Resolve("1.0");

        Assert.IsType<OciLayoutSource>(source);
        Assert.Equal(alone.ManifestDigest, byTag.ManifestDigest);
        Assert.Equal("1.0", byTag.RefName);
        Assert.Equal(2, byTag.Manifest.Layers.Length);
        Assert.Equal(MediaTypes.OciLayerTarZstd, byTag.Manifest.Layers[1].MediaType);
        Assert.Equal(["/bin/sh", "-c", "echo hi"], byTag.Config.Config.Command.ToArray());
    }

    [Fact]
    public void An_unknown_name_is_an_error_listing_the_names_there_are()
    {
        using var scratch = new ScratchDirectory();
        string layout = scratch.Make("layout");
        OciLayoutWriter.Write(layout, "1.0", [Layer(new LayerTar().File("a", "1"))]);
        using var source = ImageSource.Open(layout);

        var e = Assert.Throws<ImageException>(() => source.Resolve("2.0"));

        Assert.Contains("no image named '2.0'", e.Message, StringComparison.Ordinal);
        Assert.Contains("Name one of: 1.0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_manifest_whose_bytes_do_not_match_its_digest_is_refused()
    {
        using var scratch = new ScratchDirectory();
        string layout = scratch.Make("layout");
        OciLayoutWriter.Write(layout, "1.0", [Layer(new LayerTar().File("a", "1"))]);
        using (var source = ImageSource.Open(layout))
        {
            var digest = source.Index.Manifests[0].Digest;
            string blob = Path.Combine(layout, "blobs", "sha256", digest.Encoded);
            string text = File.ReadAllText(blob);
            File.WriteAllText(blob, text.Replace("\"schemaVersion\":2", "\"schemaVersion\":3", StringComparison.Ordinal));
        }
        using var tampered = ImageSource.Open(layout);

        var e = Assert.Throws<ImageException>(() => tampered.Resolve());

        Assert.Equal(tampered.Index.Manifests[0].Digest, e.Digest);
        Assert.Contains("digest", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_image_for_another_platform_is_refused()
    {
        using var scratch = new ScratchDirectory();
        string layout = scratch.Make("layout");
        OciLayoutWriter.Write(layout, "1.0", [Layer(new LayerTar().File("a", "1"))]);
        using var source = ImageSource.Open(layout);

        var e = Assert.Throws<ImageException>(() => source.Resolve(platform: new Platform("s390x", "linux")));

        Assert.Contains("not linux/s390x", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_oci_archive_imports_the_same_layers_as_its_layout()
    {
        using var scratch = new ScratchDirectory();
        string layout = scratch.Make("layout");
        OciLayoutWriter.Write(layout, "1.0", [Layer(new LayerTar().Directory("etc/").File("etc/x", "1")), Layer(new LayerTar().Whiteout("etc", "x"))]);
        string archive = scratch.Combine("image.tar");
        TarFile.CreateFromDirectory(layout, archive, includeBaseDirectory: false);
        var store = ImageStore.Open(new ImageStoreOptions { Root = scratch.Combine("store"), Layers = LayerApplierTests.Unprivileged });

        StoredImage fromLayout, fromArchive;
        using (var source = ImageSource.Open(layout))
            fromLayout = await store.ImportAsync(source, ImageReference.Parse("test/a:layout"));
        using (var source = ImageSource.Open(archive))
        {
            Assert.IsType<OciArchiveSource>(source);
            fromArchive = await store.ImportAsync(source, ImageReference.Parse("test/a:archive"));
        }

        Assert.Equal(fromLayout.ManifestDigest, fromArchive.ManifestDigest);
        Assert.Equal(2, store.ListLayers().Count);
        Assert.Equal(2, store.ListImages().Count);
    }

    [Fact]
    public async Task A_plain_directory_is_a_one_layer_image_of_the_same_tree_and_the_same_digest_every_time()
    {
        using var scratch = new ScratchDirectory();
        string rootfs = scratch.Make("rootfs");
        Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        File.WriteAllText(Path.Combine(rootfs, "bin", "tool"), "#!/bin/sh\n");
        File.SetUnixFileMode(Path.Combine(rootfs, "bin", "tool"), (UnixFileMode)0x1ED);
        File.CreateSymbolicLink(Path.Combine(rootfs, "bin", "sh"), "tool");
        File.CreateSymbolicLink(Path.Combine(rootfs, "escape"), "/etc");
        Directory.CreateDirectory(Path.Combine(rootfs, "empty"));
        var store = ImageStore.Open(new ImageStoreOptions { Root = scratch.Combine("store"), Layers = LayerApplierTests.Unprivileged });

        StoredImage first, second;
        using (var source = ImageSource.Open(rootfs))
        {
            Assert.IsType<DirectorySource>(source);
            first = await store.ImportAsync(source, ImageReference.Parse("test/dir:1"));
        }
        using (var source = ImageSource.Open(rootfs))
            second = await store.ImportAsync(source, ImageReference.Parse("test/dir:2"));

        Assert.Equal(first.Layers.ToArray(), second.Layers.ToArray());
        Assert.Equal(TreeSnapshot.Of(rootfs), TreeSnapshot.Of(store.LayerDirectory(first.Layers[0])));
        Assert.Equal("link -> /etc", TreeSnapshot.Of(store.LayerDirectory(first.Layers[0]))["escape"]);
        Assert.Empty(first.Config.Config.Command);
    }

    [Fact]
    public void A_directory_with_blobs_but_no_oci_layout_file_is_called_a_broken_layout()
    {
        using var scratch = new ScratchDirectory();
        string layout = scratch.Make("layout");
        OciLayoutWriter.Write(layout, "1.0", [Layer(new LayerTar().File("a", "1"))]);
        File.Delete(Path.Combine(layout, "oci-layout"));

        var e = Assert.Throws<ImageException>(() => ImageSource.Open(layout));

        Assert.Contains("broken OCI image layout", e.Message, StringComparison.Ordinal);
    }
}
