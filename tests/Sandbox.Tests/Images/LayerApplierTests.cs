using System.Formats.Tar;
using Sandbox.Images;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;
using Sandbox.Interop;

namespace Sandbox.Tests.Images;

/// <summary>Unpacking layers into a directory: every kind of entry, whiteouts in both formats, digests, compression.</summary>
public sealed class LayerApplierTests
{
    /// <summary>What any user can do: overlay format with user.* xattrs, no chown, devices skipped.</summary>
    internal static readonly LayerApplyOptions Unprivileged = LayerApplyOptions.Rootless;

    internal static LayerApplyResult Apply(LayerTar tar, string directory, LayerApplyOptions? options = null, LayerCompression compression = LayerCompression.None)
    {
        var (blob, layer) = tar.ToBlob(compression);
        return LayerApplier.Apply(new MemoryStream(blob), layer, directory, options ?? Unprivileged);
    }

    [Fact]
    public void Files_directories_symlinks_hard_links_and_fifos_are_unpacked_with_their_modes_and_times()
    {
        using var scratch = new ScratchDirectory();
        var tar = new LayerTar()
            .Directory("bin/", (UnixFileMode)0x1ED)
            .File("bin/tool", "#!/bin/sh\n", (UnixFileMode)0x9ED) // 04755: setuid survives
            .Symlink("bin/sh", "tool")
            .HardLink("bin/tool2", "bin/tool")
            .Directory("secret", (UnixFileMode)0x1C0)
            .File("secret/key", "k", (UnixFileMode)0x180)
            .Fifo("pipe");

        var result = Apply(tar, scratch.Path);

        var tree = TreeSnapshot.Of(scratch.Path);
        Assert.Equal("dir 755", tree["bin"]);
        Assert.Equal("file 4755 #!/bin/sh\n", tree["bin/tool"]);
        Assert.Equal("link -> tool", tree["bin/sh"]);
        Assert.Equal("file 4755 #!/bin/sh\n", tree["bin/tool2"]);
        Assert.Equal("dir 700", tree["secret"]);
        Assert.Equal("file 600 k", tree["secret/key"]);
        Assert.Equal("fifo 644", tree["pipe"]);
        Assert.Equal(10, new FileInfo(scratch.Combine("bin", "tool")).Length);
        Assert.Equal(LayerTar.Epoch.UtcDateTime, File.GetLastWriteTimeUtc(scratch.Combine("bin", "tool")));
        Assert.Equal(LayerTar.Epoch.UtcDateTime, Directory.GetLastWriteTimeUtc(scratch.Combine("bin")));
        Assert.Equal(Stat(scratch.Combine("bin", "tool")).Inode, Stat(scratch.Combine("bin", "tool2")).Inode);
        Assert.Equal(7, result.Entries);
        Assert.Equal(11, result.FileBytes);
    }

    [Fact]
    public void Missing_parent_directories_are_made_and_a_leading_dot_slash_is_accepted()
    {
        using var scratch = new ScratchDirectory();

        Apply(new LayerTar().File("./a/b/c.txt", "x").Directory("./"), scratch.Path);

        var tree = TreeSnapshot.Of(scratch.Path);
        Assert.Equal("dir 755", tree["a"]);
        Assert.Equal("dir 755", tree["a/b"]);
        Assert.Equal("file 644 x", tree["a/b/c.txt"]);
    }

    [Fact]
    public void A_later_entry_replaces_an_earlier_one_of_another_kind()
    {
        using var scratch = new ScratchDirectory();

        Apply(new LayerTar().Directory("x/").File("x/inner", "1").File("x", "now a file").Symlink("y", "x").File("y", "now a file too"), scratch.Path);

        var tree = TreeSnapshot.Of(scratch.Path);
        Assert.Equal("file 644 now a file", tree["x"]);
        Assert.Equal("file 644 now a file too", tree["y"]);
        Assert.False(tree.ContainsKey("x/inner"));
    }

    [Fact]
    public void Overlay_format_turns_a_whiteout_into_a_0_0_character_device_and_the_opaque_marker_into_the_xattr()
    {
        using var scratch = new ScratchDirectory();

        var result = Apply(new LayerTar().Directory("etc/").Whiteout("etc", "shadow").Directory("opt/").Opaque("opt").File("opt/new", "n"), scratch.Path);

        var tree = TreeSnapshot.Of(scratch.Path);
        Assert.Equal("chr 0:0", tree["etc/shadow"]);
        Assert.Equal("dir 755 user.overlay.opaque=y", tree["opt"]);
        Assert.Equal("file 644 n", tree["opt/new"]);
        Assert.DoesNotContain(tree.Keys, k => k.Contains(".wh.", StringComparison.Ordinal));
        Assert.Equal(5, result.Entries);
    }

    [Fact]
    public void Overlay_format_puts_the_opaque_xattr_in_the_namespace_the_options_choose()
    {
        if (FileSystemCalls.Geteuid() != 0) return; // trusted.* needs CAP_SYS_ADMIN; the integration tests cover root
        using var scratch = new ScratchDirectory();

        Apply(new LayerTar().Directory("d/").Opaque("d"), scratch.Path, LayerApplyOptions.Root with { Owners = IdMapping.Unpacker, XattrNamespace = OverlayXattrNamespace.Trusted });

        Assert.Equal("y", Xattr.Get(scratch.Combine("d"), "trusted.overlay.opaque"));
        Assert.Null(Xattr.Get(scratch.Combine("d"), "user.overlay.opaque"));
    }

    [Fact]
    public void Root_marks_an_opaque_directory_in_both_namespaces_so_an_overlay_in_a_user_namespace_reads_it_too()
    {
        if (FileSystemCalls.Geteuid() != 0) return; // trusted.* needs CAP_SYS_ADMIN; the integration tests cover root
        using var scratch = new ScratchDirectory();

        Apply(new LayerTar().Directory("d/").Opaque("d").Directory("e/"), scratch.Path, LayerApplyOptions.Root with { Owners = IdMapping.Unpacker });

        Assert.Equal(OverlayXattrNamespace.TrustedAndUser, LayerApplyOptions.Root.XattrNamespace);
        Assert.Equal("y", Xattr.Get(scratch.Combine("d"), "trusted.overlay.opaque"));
        Assert.Equal("y", Xattr.Get(scratch.Combine("d"), "user.overlay.opaque"));
        Assert.Null(Xattr.Get(scratch.Combine("e"), "user.overlay.opaque"));
    }

    [Fact]
    public void A_whiteout_and_an_entry_of_the_same_name_in_one_layer_keep_the_entry_whatever_their_order()
    {
        using var before = new ScratchDirectory();
        using var after = new ScratchDirectory();

        Apply(new LayerTar().Whiteout("", "a").File("a", "kept"), before.Path);
        Apply(new LayerTar().File("a", "kept").Whiteout("", "a"), after.Path);

        Assert.Equal("file 644 kept", TreeSnapshot.Of(before.Path)["a"]);
        Assert.Equal(TreeSnapshot.Of(before.Path), TreeSnapshot.Of(after.Path));
    }

    [Fact]
    public void A_directory_that_replaces_a_whiteout_hides_the_layers_below_in_overlay_format()
    {
        using var scratch = new ScratchDirectory();

        Apply(new LayerTar().Whiteout("", "d").Directory("d/").File("d/only", "1"), scratch.Path);

        Assert.Equal("dir 755 user.overlay.opaque=y", TreeSnapshot.Of(scratch.Path)["d"]);
    }

    [Fact]
    public void Apply_format_removes_what_whiteouts_name_and_what_opaque_directories_held_below()
    {
        using var scratch = new ScratchDirectory();
        var apply = Unprivileged.WithWhiteouts(WhiteoutFormat.Apply);
        Apply(new LayerTar().Directory("etc/").File("etc/passwd", "p").File("etc/shadow", "s").Directory("opt/").File("opt/old", "o").Directory("opt/sub/").File("opt/sub/x", "x"), scratch.Path, apply);

        Apply(new LayerTar().Whiteout("etc", "shadow").Opaque("opt").File("opt/new", "n").File("opt/sub/y", "y"), scratch.Path, apply);

        var tree = TreeSnapshot.Of(scratch.Path);
        Assert.Equal(["etc", "etc/passwd", "opt", "opt/new", "opt/sub", "opt/sub/y"], tree.Keys);
    }

    [Theory]
    [InlineData(LayerCompression.None)]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    public void Every_compression_gives_the_same_tree_and_diff_id(LayerCompression compression)
    {
        using var plain = new ScratchDirectory();
        using var compressed = new ScratchDirectory();
        var tar = new LayerTar().Directory("d/").File("d/f", new string('z', 100_000)).Symlink("l", "d/f");

        var reference = Apply(tar, plain.Path);
        var result = Apply(tar, compressed.Path, compression: compression);

        Assert.Equal(reference.DiffId, result.DiffId);
        Assert.Equal(TreeSnapshot.Of(plain.Path), TreeSnapshot.Of(compressed.Path));
        Assert.Equal(compression == LayerCompression.None, result.Digest == result.DiffId);
    }

    [Fact]
    public void Overlay_xattrs_in_a_layer_are_never_applied_and_are_noted()
    {
        using var scratch = new ScratchDirectory();

        var result = Apply(new LayerTar().File("f", "x", pax: new Dictionary<string, string>
        {
            ["SCHILY.xattr.user.overlay.opaque"] = "y",
            ["SCHILY.xattr.user.note"] = "kept",
        }), scratch.Path);

        Assert.Null(Xattr.Get(scratch.Combine("f"), "user.overlay.opaque"));
        Assert.Equal("kept", Xattr.Get(scratch.Combine("f"), "user.note"));
        Assert.Contains(result.Notes, n => n.Entry == "f" && n.Message.Contains("user.overlay.opaque", StringComparison.Ordinal));
    }

    [Fact]
    public void Binary_xattr_values_are_kept_byte_for_byte()
    {
        using var scratch = new ScratchDirectory();
        byte[] binary = [0xff, 0x00, 0x80, 0x01, 0xfe, 0x7f, 0x00, 0xc3];
        var tar = new LayerTar()
            .Add(() => new PaxGlobalExtendedAttributesTarEntry(new Dictionary<string, string> { ["comment"] = "g" }))
            .File("before", "b", pax: new Dictionary<string, string> { ["SCHILY.xattr.user.text"] = "plain" })
            .File("f", "x", pax: new Dictionary<string, string> { ["SCHILY.xattr.user.bin"] = "XYZXYZXY", ["SCHILY.xattr.user.text"] = "plain" })
            .File("after", new byte[1500]);
        byte[] bytes = tar.ToTar();
        int at = bytes.AsSpan().IndexOf("XYZXYZXY"u8);
        binary.CopyTo(bytes, at);
        var layer = new LayerBlob(Digest.Sha256Of(bytes), bytes.Length, LayerCompression.None, Digest.Sha256Of(bytes));

        var result = LayerApplier.Apply(new MemoryStream(bytes), layer, scratch.Path, Unprivileged);

        Assert.Equal(binary, ExtendedAttributes.TryGet(scratch.Combine("f"), "user.bin"));
        Assert.Equal("plain", Xattr.Get(scratch.Combine("f"), "user.text"));
        Assert.Equal("plain", Xattr.Get(scratch.Combine("before"), "user.text"));
        Assert.Null(Xattr.Get(scratch.Combine("after"), "user.bin"));
        Assert.Empty(result.Notes);
    }

    [Fact]
    public void Device_nodes_are_skipped_with_a_note_when_the_options_say_skip()
    {
        using var scratch = new ScratchDirectory();

        var result = Apply(new LayerTar().CharacterDevice("dev/null", 1, 3).File("ok", "1"), scratch.Path);

        Assert.False(TreeSnapshot.Of(scratch.Path).ContainsKey("dev/null"));
        var note = Assert.Single(result.Notes);
        Assert.Equal("dev/null", note.Entry);
        Assert.Contains("1:3", note.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Owners_outside_a_shifted_range_are_an_error_naming_the_entry()
    {
        using var scratch = new ScratchDirectory();
        var options = Unprivileged with { Owners = IdMapping.Shift(100000, 100000, 65536) };

        var e = Assert.Throws<LayerException>(() => Apply(new LayerTar().File("big", "x", uid: 70000), scratch.Path, options));

        Assert.Equal(LayerProblem.UnmappedOwner, e.Kind);
        Assert.Equal("big", e.Entry);
    }

    [Fact]
    public void Unpacking_without_chown_keeps_non_root_owners_in_the_store_s_own_xattr_and_takes_none_from_the_layer()
    {
        using var scratch = new ScratchDirectory();
        var tar = new LayerTar()
            .Directory("home/", uid: 0, gid: 0)
            .Directory("home/user/", mode: (UnixFileMode)0x1C0, uid: 1000, gid: 1001)
            .File("home/user/readonly", "r", mode: (UnixFileMode)0x124, uid: 1000, gid: 1001)
            .File("root-owned", "r")
            .File("forged", "f", pax: new Dictionary<string, string> { ["SCHILY.xattr.user.sandbox.owner"] = "0:5" })
            .Symlink("link", "root-owned");

        var result = Apply(tar, scratch.Path);
        var keptOwners = Apply(tar, scratch.Make("root"), Unprivileged.WithOwners(IdMapping.Identity));

        Assert.Equal("1000:1001", Xattr.Get(scratch.Combine("home", "user"), RecordedOwner.XattrName));
        Assert.Equal("1000:1001", Xattr.Get(scratch.Combine("home", "user", "readonly"), RecordedOwner.XattrName)); // set while the file was writable
        Assert.Null(Xattr.Get(scratch.Combine("home"), RecordedOwner.XattrName));
        Assert.Null(Xattr.Get(scratch.Combine("root-owned"), RecordedOwner.XattrName));
        Assert.Null(Xattr.Get(scratch.Combine("forged"), RecordedOwner.XattrName));
        Assert.Contains(result.Notes, n => n.Entry == "forged" && n.Message.Contains("store's own", StringComparison.Ordinal));
        Assert.Null(Xattr.Get(scratch.Combine("root", "home", "user"), RecordedOwner.XattrName)); // the owners themselves were kept
    }

    [Fact]
    public void A_directory_removed_with_its_tree_can_be_made_again_and_filled()
    {
        using var scratch = new ScratchDirectory();
        using var dir = ConfinedDirectory.Open(scratch.Path);
        dir.TryCreateDirectory("d", 0x1ED);
        dir.TryCreateDirectory("d/e", 0x1ED);
        using (dir.CreateFile("d/e/f", 0x1A4)) { }

        Assert.True(dir.Remove("d"));
        Assert.True(dir.TryCreateDirectory("d", 0x1ED));
        Assert.True(dir.TryCreateDirectory("d/e", 0x1ED)); // not in the removed directory a cached descriptor still names

        Assert.True(Directory.Exists(scratch.Combine("d", "e")));
    }

    [Fact]
    public void Hard_links_across_more_directories_than_the_descriptor_cache_holds_are_made()
    {
        using var scratch = new ScratchDirectory();
        var tar = new LayerTar();
        for (int i = 0; i < 300; i++) tar.Directory($"d{i}/").File($"d{i}/f", $"{i}");
        for (int i = 0; i < 300; i++) tar.HardLink($"d{(i * 7) % 300}/link{i}", $"d{i}/f");

        Apply(tar, scratch.Path);

        for (int i = 0; i < 300; i += 37)
            Assert.Equal($"{i}", File.ReadAllText(scratch.Combine($"d{(i * 7) % 300}", $"link{i}")));
    }

    [Fact]
    public void The_same_entries_always_make_the_same_tar()
    {
        var tar = new LayerTar().File("f", "x").Directory("d/");

        Assert.Equal(tar.ToTar(), tar.ToTar());
    }

    [Fact]
    public void Trailing_bytes_after_the_end_of_the_tar_count_in_the_diff_id()
    {
        using var scratch = new ScratchDirectory();
        var (blob, _) = new LayerTar().File("f", "x").ToBlob();
        byte[] padded = [.. blob, .. new byte[10240]];
        var layer = new LayerBlob(Digest.Sha256Of(padded), padded.Length, LayerCompression.None, Digest.Sha256Of(padded));

        var result = LayerApplier.Apply(new MemoryStream(padded), layer, scratch.Path, Unprivileged);

        Assert.Equal(padded.Length, result.TarBytes);
    }

    private static FileNodeStatus Stat(string path)
    {
        using var dir = ConfinedDirectory.Open(Path.GetDirectoryName(path)!);
        return dir.TryStatus(Path.GetFileName(path))!.Value;
    }
}
