using Sandbox.IntegrationTests.Support;
using static Sandbox.IntegrationTests.Images.StoreFixtures;

namespace Sandbox.IntegrationTests.Images;

/// <summary>
/// The store's layers mounted by the kernel's overlayfs (in a private mount namespace): deletions and opaque
/// directories are honoured, so the on-disk whiteout format is the kernel's.
/// </summary>
public sealed class OverlayMountTests
{
    [Fact(Timeout = 180_000)]
    public async Task The_kernel_mounts_the_layers_and_honours_whiteouts_and_opaque_directories()
    {
        Assert.True(File.ReadAllText("/proc/filesystems").Contains("\toverlay", StringComparison.Ordinal), "the kernel has no overlayfs (CONFIG_OVERLAY_FS)");
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        using var lease = store.Lease(Busybox);
        string mnt = temp.Combine("mnt");
        Directory.CreateDirectory(mnt);

        string output = BusyboxLayout.Run("unshare", "-m", "sh", "-c", $"""
            set -e
            mount --make-rprivate /
            mount -t tmpfs tmpfs '{mnt}'
            mkdir '{mnt}/upper' '{mnt}/work' '{mnt}/merged'
            mount -t overlay overlay -o 'lowerdir={string.Join(':', lease.LowerDirectories)},upperdir={mnt}/upper,workdir={mnt}/work' '{mnt}/merged'
            m='{mnt}/merged'
            if [ -e "$m/etc/remove-me" ]; then echo remove-me-visible; fi
            echo "data: $(ls "$m/usr/share/data" | tr '\n' ' ')"
            echo "shadow: $(cat "$m/etc/shadow")"
            echo "run: $(chroot "$m" /bin/sh -c 'echo from-the-image; ls /etc | tr "\n" " "')"
            rm "$m/usr/share/data/new"
            echo "after rm: $(ls -A "$m/usr/share/data" | wc -l)"
            """);

        Assert.DoesNotContain("remove-me-visible", output, StringComparison.Ordinal);
        Assert.Contains("data: new \n", output, StringComparison.Ordinal);
        Assert.Contains("shadow: secret", output, StringComparison.Ordinal);
        Assert.Contains("run: from-the-image", output, StringComparison.Ordinal);
        Assert.DoesNotContain("remove-me", output.Split("run:")[1], StringComparison.Ordinal);
        Assert.Contains("after rm: 0", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(lease.Layers[2].Directory, "usr/share/data/.wh.new")));
        Assert.True(File.Exists(Path.Combine(lease.Layers[2].Directory, "usr/share/data/new")), "the mount wrote into a layer");
    }
}
