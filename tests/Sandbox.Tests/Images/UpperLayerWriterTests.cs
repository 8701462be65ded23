using System.Formats.Tar;
using Sandbox.Images;
using Sandbox.Images.Layers;
using Sandbox.Interop;
using static Sandbox.Tests.Images.UpperDirectory;

namespace Sandbox.Tests.Images;

/// <summary>An overlay upper directory written as an OCI layer: whiteouts and opaque directories in OCI form, overlay xattrs left out, owners mapped back, links, digests.</summary>
public sealed class UpperLayerWriterTests
{
    [Fact]
    public void Whiteouts_become_wh_entries_and_an_opaque_directory_gets_its_marker_right_after_itself()
    {
        using var scratch = new ScratchDirectory();
        string upper = scratch.Make("upper");
        Directory(upper, "d", opaque: true);
        File(upper, "d/x", "x");
        Whiteout(upper, "gone");
        Whiteout(upper, "d/old");
        File(upper, "f", "f");

        var (blob, result) = Commit(upper);

        var entries = Entries(blob);
        Assert.Equal(["d/", "d/.wh..wh..opq", "d/.wh.old", "d/x", "f", ".wh.gone"], entries.Select(e => e.Name).ToArray());
        Assert.Equal(TarEntryType.Directory, entries[0].EntryType);
        Assert.All(entries.Where(e => e.Name.Contains(".wh.", StringComparison.Ordinal)), e => Assert.Equal((TarEntryType.RegularFile, 0L), (e.EntryType, e.Length)));
        Assert.Equal(6, result.Entries);
    }

    [Fact]
    public void Overlay_xattrs_are_left_out_and_other_xattrs_kept_byte_for_byte()
    {
        using var scratch = new ScratchDirectory();
        string upper = scratch.Make("upper");
        Directory(upper, "d");
        ExtendedAttributes.Set(Path.Combine(upper, "d"), "user.overlay.origin", [1, 2, 3]);
        ExtendedAttributes.Set(Path.Combine(upper, "d"), "user.overlay.impure", "y"u8);
        File(upper, "f", "f");
        ExtendedAttributes.Set(Path.Combine(upper, "f"), "user.comment", "hello"u8);
        byte[] binary = [0xff, 0x00, 0x01, 0x80];
        ExtendedAttributes.Set(Path.Combine(upper, "f"), "user.binary", binary);

        var (blob, result) = Commit(upper);

        var entries = Entries(blob);
        Assert.DoesNotContain(entries.SelectMany(e => e.ExtendedAttributes.Keys), k => k.Contains("overlay", StringComparison.Ordinal));
        Assert.Equal("hello", entries.Single(e => e.Name == "f").ExtendedAttributes["SCHILY.xattr.user.comment"]);
        Assert.DoesNotContain(entries, e => e.Name == "d/.wh..wh..opq");
        string target = scratch.Make("applied");
        Apply(blob, result, target, LayerApplyOptions.Rootless);
        Assert.Equal(binary, ExtendedAttributes.TryGet(Path.Combine(target, "f"), "user.binary"));
        Assert.Equal("hello", Xattr.Get(Path.Combine(target, "f"), "user.comment"));
        Assert.Null(Xattr.Get(Path.Combine(target, "d"), "user.overlay.origin"));
    }

    [Fact]
    public void The_opaque_xattr_counts_only_in_the_overlay_s_own_namespace()
    {
        using var scratch = new ScratchDirectory();
        string upper = scratch.Make("upper");
        Directory(upper, "d", opaque: true); // user.overlay.opaque: what a trusted-namespace overlay never wrote nor read

        var (blob, _) = Commit(upper, Rootless.WithXattrNamespace(OverlayXattrNamespace.Trusted));

        Assert.Equal(["d/"], Entries(blob).Select(e => e.Name).ToArray());
    }

    [Fact]
    public void Owners_are_mapped_back_into_the_image_s_ids()
    {
        using var scratch = new ScratchDirectory();
        string upper = scratch.Make("upper");
        File(upper, "f", "f");
        uint uid = FileSystemCalls.Geteuid(), gid = FileSystemCalls.Getegid();

        var identity = Entries(Commit(upper, Rootless.WithOwners(IdMapping.Identity)).Blob).Single();
        var shifted = Entries(Commit(upper, Rootless.WithOwners(IdMapping.Shift(uid, gid, 1))).Blob).Single();
        var unpacker = Entries(Commit(upper, Rootless.WithOwners(IdMapping.Unpacker)).Blob).Single();
        var outside = Assert.Throws<ImageException>(() => Commit(upper, Rootless.WithOwners(IdMapping.Shift(uid + 1, gid + 1, 10))));

        Assert.Equal(((int)uid, (int)gid), (identity.Uid, identity.Gid));
        Assert.Equal((0, 0), (shifted.Uid, shifted.Gid));
        Assert.Equal((0, 0), (unpacker.Uid, unpacker.Gid));
        Assert.Contains($"host uid {uid}", outside.Message, StringComparison.Ordinal);
        Assert.Contains("'f'", outside.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Added_host_files_go_in_name_order_without_an_entry_for_a_directory_the_upper_lacks_and_over_an_excluded_path()
    {
        using var scratch = new ScratchDirectory();
        string upper = scratch.Make("upper");
        string setup = scratch.Make("setup");
        File(upper, "a", "a");
        Directory(upper, "var");
        File(upper, "var/z", "z");
        File(upper, "var/hosts", "the upper's");
        File(setup, "hosts", "changed hosts");
        File(setup, "resolv", "changed resolv");
        var options = Rootless.WithExcludedPaths(["var/hosts", "etc/hosts"])
            .WithAddedFiles([("etc/hosts", Path.Combine(setup, "hosts")), ("var/hosts", Path.Combine(setup, "resolv"))]);

        var entries = Entries(Commit(upper, options).Blob);

        Assert.Equal(["a", "etc/hosts", "var/", "var/hosts", "var/z"], entries.Select(e => e.Name).ToArray());
        Assert.Equal("changed hosts", new StreamReader(entries[1].DataStream!).ReadToEnd());
        Assert.Equal("changed resolv", new StreamReader(entries[3].DataStream!).ReadToEnd());
    }

    [Fact]
    public void A_rootless_commit_gives_what_the_program_made_the_ids_it_ran_as_and_a_copy_up_root()
    {
        using var scratch = new ScratchDirectory();
        string upper = scratch.Make("upper");
        File(upper, "made", "m");
        Directory(upper, "copied");
        ExtendedAttributes.Set(Path.Combine(upper, "copied"), "user.overlay.origin", []);
        uint uid = FileSystemCalls.Geteuid(), gid = FileSystemCalls.Getegid();

        var entries = Entries(Commit(upper, Rootless.WithSandboxIds(new SandboxIdentity(1000, 1001), new SandboxIdentity(uid, gid))).Blob);

        Assert.Equal([("copied/", 0, 0), ("made", 1000, 1001)], entries.Select(e => (e.Name, e.Uid, e.Gid)).ToArray());
    }

    [Theory]
    [InlineData(0u, 0u, false, 0, 0)]
    [InlineData(100_000u, 100_000u, true, 0, 0)]
    [InlineData(165_535u, 165_535u, true, 65535, 65535)]
    [InlineData(99_999u, 100_000u, false, 0, 0)]
    [InlineData(100_000u, 165_536u, false, 0, 0)]
    public void Mapping_back_inverts_a_shift_at_its_edges(uint hostUid, uint hostGid, bool inside, int uid, int gid)
    {
        var shift = IdMapping.Shift(100_000, 100_000, 65536);

        Assert.Equal(inside, shift.TryMapBack(hostUid, hostGid, out int u, out int g));
        Assert.Equal((uid, gid), (u, g));
        if (inside)
        {
            Assert.True(shift.TryMap(u, g, out uint backUid, out uint backGid));
            Assert.Equal((hostUid, hostGid), (backUid, backGid));
        }
    }

    [Fact]
    public void A_file_met_again_under_another_name_is_a_hard_link_to_the_first_name_and_symlinks_keep_their_text()
    {
        using var scratch = new ScratchDirectory();
        string upper = scratch.Make("upper");
        File(upper, "a", "same");
        using (var dir = ConfinedDirectory.Open(upper))
            dir.CreateHardLink("b", "a");
        Symlink(upper, "c", "../nowhere");

        var entries = Entries(Commit(upper).Blob);

        Assert.Equal((TarEntryType.RegularFile, 4L), (entries[0].EntryType, entries[0].Length));
        Assert.Equal((TarEntryType.HardLink, "a"), (entries[1].EntryType, entries[1].LinkName));
        Assert.Equal((TarEntryType.SymbolicLink, "../nowhere"), (entries[2].EntryType, entries[2].LinkName));
    }

    [Fact]
    public void The_digests_are_the_tar_s_and_the_blob_s_and_the_same_tree_gives_the_same_ones()
    {
        using var scratch = new ScratchDirectory();
        foreach (var (name, order) in new[] { ("one", new[] { "z", "a", "m" }), ("two", new[] { "m", "z", "a" }) })
        {
            string upper = scratch.Make(name);
            Directory(upper, "dir");
            foreach (var file in order) File(upper, "dir/" + file, file);
            Whiteout(upper, "w");
            SetTimes(upper);
        }

        var (blobOne, one) = Commit(scratch.Combine("one"));
        var (blobTwo, two) = Commit(scratch.Combine("two"));

        Assert.Equal(Sha256(blobOne), one.Digest);
        Assert.Equal(Sha256(Decompress(blobOne)), one.DiffId);
        Assert.Equal(blobOne.Length, one.CompressedBytes);
        Assert.Equal(Decompress(blobOne).Length, one.TarBytes);
        Assert.Equal((one.Digest, one.DiffId), (two.Digest, two.DiffId));
        Assert.Equal(["dir/", "dir/a", "dir/m", "dir/z", ".wh.w"], Entries(blobOne).Select(e => e.Name).ToArray());
    }

    [Fact]
    public void Excluded_paths_are_left_out_with_what_is_beneath_them()
    {
        using var scratch = new ScratchDirectory();
        string upper = scratch.Make("upper");
        Directory(upper, "etc");
        File(upper, "etc/hosts", "127.0.0.1 sandbox");
        File(upper, "etc/motd", "kept");
        Directory(upper, "mnt");
        File(upper, "mnt/inside", "hidden by a mount");

        var entries = Entries(Commit(upper, Rootless.WithExcludedPaths(["etc/hosts", "/mnt/"])).Blob);

        Assert.Equal(["etc/", "etc/motd"], entries.Select(e => e.Name).ToArray());
    }

    [Fact]
    public void An_empty_upper_directory_is_an_empty_tar_that_applies_to_nothing()
    {
        using var scratch = new ScratchDirectory();

        var (blob, result) = Commit(scratch.Make("upper"));

        Assert.Equal(1024, result.TarBytes);
        Assert.Equal(0, result.Entries);
        Assert.Equal(0, Apply(blob, result, scratch.Make("applied"), LayerApplyOptions.Rootless).Entries);
        Assert.Empty(TreeSnapshot.Of(scratch.Combine("applied")));
    }

    [Fact]
    public void A_missing_upper_directory_is_an_image_exception_saying_to_commit_before_disposing()
    {
        using var scratch = new ScratchDirectory();

        var error = Assert.Throws<ImageException>(() => Commit(scratch.Combine("gone")));

        Assert.Contains("cannot be opened: ENOENT", error.Message, StringComparison.Ordinal);
    }
}
