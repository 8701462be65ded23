using Sandbox.Images.Oci;
using Sandbox.Interop;
using Sandbox.IntegrationTests.Support;
using static Sandbox.IntegrationTests.Images.StoreFixtures;

namespace Sandbox.IntegrationTests.Images;

/// <summary>Importing a real image (umoci-built, busybox) into a store as root: the unpacked trees, the config, every source kind.</summary>
public sealed class ImageImportTests
{
    [Fact(Timeout = 180_000)]
    public async Task The_base_layer_is_unpacked_with_files_symlinks_hard_links_devices_modes_and_owners()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);

        var image = await ImportBusyboxAsync(store);

        Assert.Equal(3, image.Layers.Length);
        string layer = store.FindLayer(image.Layers[0])!.Directory;
        var busybox = Status(Path.Combine(layer, "bin/busybox"))!.Value;
        Assert.True(busybox.IsRegularFile);
        Assert.Equal(0x1EDu, busybox.Permissions);
        Assert.Equal(new FileInfo("/bin/busybox").Length, (long)busybox.Size);
        Assert.Equal(BusyboxLayout.Capability, ExtendedAttributes.TryGet(Path.Combine(layer, "bin/busybox"), "security.capability"));
        Assert.Equal("busybox", new FileInfo(Path.Combine(layer, "bin/sh")).LinkTarget);
        Assert.Equal(0x1A0u, Status(Path.Combine(layer, "etc/shadow"))!.Value.Permissions);
        Assert.Equal(Status(Path.Combine(layer, "etc/shadow"))!.Value.Inode, Status(Path.Combine(layer, "etc/shadow.hardlink"))!.Value.Inode);
        var home = Status(Path.Combine(layer, "home/user"))!.Value;
        Assert.Equal((0x1C0u, 1000u, 1000u), (home.Permissions, home.Uid, home.Gid));
        Assert.Equal(1000u, Status(Path.Combine(layer, "home/user/file"))!.Value.Uid);
        var devNull = Status(Path.Combine(layer, "dev/null"))!.Value;
        Assert.Equal((FileSystemCalls.SIfChr, 1u, 3u, 0x1B6u), (devNull.Type, devNull.RdevMajor, devNull.RdevMinor, devNull.Permissions));
        Assert.Equal(0x3FFu, Status(Path.Combine(layer, "usr/share"))!.Value.Permissions);
        Assert.Equal("a\n", File.ReadAllText(Path.Combine(layer, "usr/share/data/a")));
    }

    [Fact(Timeout = 180_000)]
    public async Task Whiteouts_become_0_0_character_devices_and_the_opaque_marker_the_trusted_xattr()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);

        var image = await ImportBusyboxAsync(store);

        string deleting = store.FindLayer(image.Layers[1])!.Directory;
        Assert.True(Status(Path.Combine(deleting, "etc/remove-me"))!.Value.IsOverlayWhiteout);
        Assert.False(Directory.EnumerateFileSystemEntries(deleting, ".wh.*", SearchOption.AllDirectories).Any());
        string opaque = store.FindLayer(image.Layers[2])!.Directory;
        Assert.Equal("y", Xattr(Path.Combine(opaque, "usr/share/data"), "trusted.overlay.opaque"));
        Assert.False(File.Exists(Path.Combine(opaque, "usr/share/data", ".wh..wh..opq")));
        Assert.Equal("new\n", File.ReadAllText(Path.Combine(opaque, "usr/share/data/new")));
        Assert.Null(Xattr(Path.Combine(opaque, "usr/share"), "trusted.overlay.opaque"));
    }

    [Fact(Timeout = 180_000)]
    public async Task The_config_gives_what_the_run_will_apply()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);

        var image = await ImportBusyboxAsync(store);

        var config = store.FindImage(Busybox)!.Config;
        Assert.Equal(image.ConfigDigest, store.FindImage(Busybox)!.ConfigDigest);
        Assert.Equal(["/bin/sh", "-c", "echo hi"], config.Config.Command.ToArray());
        Assert.Equal("bar", config.Config.Environment["FOO"]);
        Assert.Equal("/home/user", config.Config.WorkingDir);
        Assert.Equal("1000:1000", config.Config.User);
        Assert.Equal(Platform.Host.Architecture, config.Platform.Architecture);
    }

    [Fact(Timeout = 180_000)]
    public async Task An_oci_archive_and_a_docker_archive_of_the_image_share_every_layer_with_the_layout()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);

        var fromLayout = await ImportBusyboxAsync(store);
        var fromOciArchive = await ImportBusyboxAsync(store, BusyboxLayout.OciArchive, Busybox.WithTag("oci-archive"));
        var fromDockerArchive = await ImportBusyboxAsync(store, BusyboxLayout.DockerArchive, Busybox.WithTag("docker-archive"));

        Assert.Equal(fromLayout.Layers.ToArray(), fromOciArchive.Layers.ToArray());
        Assert.Equal(fromLayout.ManifestDigest, fromOciArchive.ManifestDigest);
        Assert.Equal(fromLayout.Layers.ToArray(), fromDockerArchive.Layers.ToArray());
        Assert.Equal(3, store.ListLayers().Count);
        Assert.Equal(3, store.ListImages().Count);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_shifted_id_mapping_moves_every_owner_into_the_sandboxes_range()
    {
        using var temp = TempDirectory.Create();
        var options = Sandbox.Images.Layers.LayerApplyOptions.Root.WithOwners(Sandbox.Images.Layers.IdMapping.Shift(100000, 200000, 65536));
        var store = Sandbox.Images.Store.ImageStore.Open(new Sandbox.Images.Store.ImageStoreOptions { Root = temp.Combine("store"), Layers = options });

        var image = await ImportBusyboxAsync(store);

        string layer = store.FindLayer(image.Layers[0])!.Directory;
        var file = Status(Path.Combine(layer, "home/user/file"))!.Value;
        Assert.Equal((101000u, 201000u), (file.Uid, file.Gid));
        var busybox = Status(Path.Combine(layer, "bin/busybox"))!.Value;
        Assert.Equal((100000u, 200000u), (busybox.Uid, busybox.Gid));
        Assert.Equal(100000u, Status(Path.Combine(layer, "bin/sh"))!.Value.Uid);
        Assert.Equal(100000u, Status(Path.Combine(layer, "usr"))!.Value.Uid);
    }

    [Fact(Timeout = 180_000)]
    public async Task Importing_again_reuses_the_unpacked_layers()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        var image = await ImportBusyboxAsync(store);
        ulong inode = Status(store.LayerDirectory(image.Layers[0]))!.Value.Inode;

        await ImportBusyboxAsync(store, name: Busybox.WithTag("again"));

        Assert.Equal(inode, Status(store.LayerDirectory(image.Layers[0]))!.Value.Inode);
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Combine("store/tmp")));
    }
}
