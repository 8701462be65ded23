using Sandbox.Images.Store;
using Sandbox.Interop;
using Sandbox.IntegrationTests.Support;
using static Sandbox.IntegrationTests.Images.StoreFixtures;

namespace Sandbox.IntegrationTests.Images;

/// <summary>
/// An unprivileged user (nobody) imports the image into its own store: no chown, device nodes left out,
/// whiteouts still 0/0 devices (which the kernel lets anyone make), opaque directories marked with user.overlay.opaque —
/// and a user namespace mounts the layers with overlayfs' userxattr option and honours them.
/// </summary>
public sealed class RootlessImportTests
{
    [Fact(Timeout = 240_000)]
    public async Task Nobody_imports_into_its_own_store_and_a_user_namespace_mounts_the_layers()
    {
        using var temp = TempDirectory.Create(TempDirectory.WritableByAll);
        string store = temp.Combine("store");
        string layout = BusyboxLayout.Layout;

        var import = await RootlessCli.RunAssemblyAsync(TestBinaries.ImageImporterAssemblyPath, store, layout, Busybox.ToString(), BusyboxLayout.Tag);

        Assert.True(import.ExitCode == 0, import.ToString());
        var opened = ImageStore.Open(new ImageStoreOptions { Root = store });
        var image = opened.FindImage(Busybox)!;
        var layers = image.Layers.Select(d => opened.FindLayer(d)!).ToArray();
        Assert.All(layers, l => Assert.Equal(Sandbox.Images.Layers.OverlayXattrNamespace.User, l.XattrNamespace));
        Assert.Equal(2, layers[0].Notes); // dev/null, and the file capability only root may set
        Assert.Null(ExtendedAttributes.TryGet(Path.Combine(layers[0].Directory, "bin/busybox"), "security.capability"));
        Assert.Null(Status(Path.Combine(layers[0].Directory, "dev/null")));
        Assert.Equal(RootlessCli.Nobody, Status(Path.Combine(layers[0].Directory, "home/user/file"))!.Value.Uid);
        Assert.Equal(0x1C0u, Status(Path.Combine(layers[0].Directory, "home/user"))!.Value.Permissions);
        Assert.True(Status(Path.Combine(layers[1].Directory, "etc/remove-me"))!.Value.IsOverlayWhiteout);
        Assert.Equal("y", Xattr(Path.Combine(layers[2].Directory, "usr/share/data"), "user.overlay.opaque"));
        Assert.Null(Xattr(Path.Combine(layers[2].Directory, "usr/share/data"), "trusted.overlay.opaque"));

        string lower = string.Join(':', layers.Reverse().Select(l => l.Directory));
        string mnt = temp.Combine("mnt");
        var mount = await RootlessCli.RunCommandAsync("unshare", "-Urm", "sh", "-c", $"""
            set -e
            mkdir '{mnt}'
            mount -t tmpfs tmpfs '{mnt}'
            mkdir '{mnt}/upper' '{mnt}/work' '{mnt}/merged'
            mount -t overlay overlay -o 'userxattr,lowerdir={lower},upperdir={mnt}/upper,workdir={mnt}/work' '{mnt}/merged'
            if [ -e '{mnt}/merged/etc/remove-me' ]; then echo remove-me-visible; fi
            echo "data: $(ls '{mnt}/merged/usr/share/data' | tr '\n' ' ')"
            """);

        Assert.True(mount.ExitCode == 0, mount.ToString());
        Assert.DoesNotContain("remove-me-visible", mount.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("data: new \n", mount.StandardOutput, StringComparison.Ordinal);
    }
}
