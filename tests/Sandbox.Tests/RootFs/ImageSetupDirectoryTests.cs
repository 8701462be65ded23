using Sandbox.Images.Layers;
using Sandbox.Interop;
using Sandbox.RootFs;
using Sandbox.Tests.Images;
using static Sandbox.Tests.Images.UpperDirectory;

namespace Sandbox.Tests.RootFs;

/// <summary>
/// The host side of a run on a writable layer: what the image's layers show at a path (as overlayfs merges them), and the
/// mount-point layer, runtime files and record it writes.
/// </summary>
public sealed class ImageSetupDirectoryTests
{
    [Fact]
    public void A_path_of_the_image_is_looked_up_through_its_layers_as_overlayfs_merges_them()
    {
        using var scratch = new ScratchDirectory();
        string top = scratch.Make("top"), middle = scratch.Make("middle"), bottom = scratch.Make("bottom");
        Directory(top, "opaque", opaque: true);
        Directory(bottom, "opaque");
        File(bottom, "opaque/hidden", "x");
        Whiteout(top, "gone");
        File(bottom, "gone", "x");
        Directory(middle, "merged");
        Directory(bottom, "merged");
        File(bottom, "merged/deep", "x");
        File(middle, "file", "x");
        Directory(bottom, "file");
        File(bottom, "file/under", "x"); // never reached: 'file' is a file above
        Directory(middle, "owned");
        ExtendedAttributes.Set(Path.Combine(middle, "owned"), RecordedOwner.XattrName, "1000:1000"u8);
        Directory(bottom, "owned");
        string[] lowers = [top, middle, bottom];

        Assert.Null(ImageSetupDirectory.ImageStatus([.. lowers], "opaque/hidden"));
        Assert.Null(ImageSetupDirectory.ImageStatus([.. lowers], "gone"));
        Assert.Null(ImageSetupDirectory.ImageStatus([.. lowers], "file/under"));
        Assert.Null(ImageSetupDirectory.ImageStatus([.. lowers], "missing"));
        Assert.True(ImageSetupDirectory.ImageStatus([.. lowers], "merged/deep") is { Status.IsRegularFile: true });
        Assert.True(ImageSetupDirectory.ImageStatus([.. lowers], "opaque") is { Status.IsDirectory: true });
        var owned = ImageSetupDirectory.ImageStatus([.. lowers], "owned");
        Assert.Equal("1000:1000", System.Text.Encoding.ASCII.GetString(owned!.Value.RecordedOwner!));
    }

    [Fact]
    public void The_mount_point_layer_mirrors_the_image_s_directories_and_holds_placeholders_for_what_it_lacks()
    {
        using var scratch = new ScratchDirectory();
        string image = scratch.Make("image");
        Directory(image, "etc");
        Directory(image, "srv");
        new DirectoryInfo(Path.Combine(image, "etc")).UnixFileMode = (UnixFileMode)0x1E8; // 0750
        File(image, "srv/present", "x");
        SetTimes(image);
        string setup = scratch.Combine("setup");

        ImageSetupDirectory.Prepare(setup, [("/etc/hosts", "hosts\n"), ("/etc/resolv.conf", "")], [image],
            [("/srv/present", false), ("/srv/new/dir", true), ("/etc/app.conf", false)], new SandboxIdentity(1000, 1000), new SandboxIdentity(65534, 65534));

        string layer = ImageSetupDirectory.MountPointsDirectory(setup);
        var tree = TreeSnapshot.Of(layer).Keys.Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["dev", "etc", "etc/app.conf", "etc/hosts", "etc/resolv.conf", "proc", "srv", "srv/new", "srv/new/dir", "tmp"], tree);
        using var dir = ConfinedDirectory.Open(layer);
        Assert.Equal((0x1E8u, Time), (dir.TryStatus("etc")!.Value.Permissions, dir.TryStatus("etc")!.Value.ModificationTime));
        Assert.Equal(Time, dir.TryStatus("srv")!.Value.ModificationTime);
        Assert.Equal(0x3FFu, dir.TryStatus("tmp")!.Value.Permissions);
        Assert.Equal("hosts\n", System.IO.File.ReadAllText(ImageSetupDirectory.FileSource(setup, "/etc/hosts")));
        var record = ImageSetupDirectory.TryReadRecord(setup)!;
        Assert.Equal((new SandboxIdentity(1000, 1000), new SandboxIdentity(65534, 65534)), (record.User, record.HostUser));
        Assert.Empty(ImageSetupDirectory.ChangedFiles(setup, record));

        System.IO.File.AppendAllText(ImageSetupDirectory.FileSource(setup, "/etc/resolv.conf"), "nameserver 10.0.0.1\n");
        Assert.Equal([("etc/resolv.conf", ImageSetupDirectory.FileSource(setup, "/etc/resolv.conf"))], ImageSetupDirectory.ChangedFiles(setup, record).ToArray());
    }
}
