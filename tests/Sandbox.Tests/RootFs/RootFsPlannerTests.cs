using Sandbox.Launch;
using Sandbox.RootFs;
using Sandbox.Tests.Fakes;

namespace Sandbox.Tests.RootFs;

/// <summary>The mount plan of the sandbox's root, planned against a fake host file system.</summary>
public sealed class RootFsPlannerTests
{
    private const MountFlags ReadOnlyBind = MountFlags.ReadOnly | MountFlags.Recursive | MountFlags.NoSuid | MountFlags.NoDev;

    private static readonly SandboxSpec Spec = SandboxSpec.Command("/bin/true");

    private static readonly IdentityView SandboxUser = new(1000, 1000);

    [Fact]
    public void A_merged_usr_host_gets_its_system_symlinks_with_the_same_link_text_and_no_bind()
    {
        var ops = Plan(FakeHostFileSystem.MergedUsr());

        foreach (var (path, text) in new[] { ("/bin", "usr/bin"), ("/lib", "usr/lib"), ("/lib64", "usr/lib64"), ("/sbin", "usr/sbin") })
        {
            Assert.Equal([new MountOp(MountOpKind.Symlink, path, Source: text)], ops.Where(o => o.Target == path));
        }
        Assert.Contains(new MountOp(MountOpKind.Bind, "/usr", Source: "/usr", Flags: ReadOnlyBind), ops);
    }

    [Fact]
    public void A_split_host_gets_each_system_directory_made_and_bound_read_only_recursive_nosuid_nodev()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr());

        foreach (var path in RootFsPlanner.SystemDirectories)
        {
            Assert.Equal(
                [new MountOp(MountOpKind.MakeDirectory, path, Mode: FileModes.Mode0755), new MountOp(MountOpKind.Bind, path, Source: path, Flags: ReadOnlyBind)],
                ops.Where(o => o.Target == path));
        }
    }

    [Fact]
    public void A_system_directory_the_host_lacks_is_skipped()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr().Remove("/lib64"));

        Assert.DoesNotContain(ops, o => SandboxPath.IsWithin(o.Target, "/lib64"));
        Assert.Contains(ops, o => o.Kind == MountOpKind.Bind && o.Target == "/lib");
    }

    [Fact]
    public void A_system_path_that_is_neither_a_directory_nor_a_symlink_is_skipped()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr().File("/sbin"));

        Assert.DoesNotContain(ops, o => o.Target == "/sbin");
    }

    [Fact]
    public void Etc_passwd_and_group_name_the_sandbox_user_with_its_ids()
    {
        var ops = new RootFsPlanner(FakeHostFileSystem.SplitUsr()).Plan(Spec, new IdentityView(1234, 5678));

        var passwd = Lines(File(ops, "/etc/passwd"));
        var group = Lines(File(ops, "/etc/group"));
        Assert.Contains("sandbox:x:1234:5678:sandbox:/tmp:/bin/sh", passwd);
        Assert.Contains("root:x:0:0:root:/root:/bin/sh", passwd);
        Assert.Contains("sandbox:x:5678:", group);
    }

    [Fact]
    public void Etc_passwd_names_no_sandbox_user_when_the_payload_runs_as_root_inside()
    {
        var ops = new RootFsPlanner(FakeHostFileSystem.SplitUsr()).Plan(Spec, new IdentityView(0, 0));

        Assert.DoesNotContain(Lines(File(ops, "/etc/passwd")), l => l.StartsWith("sandbox:", StringComparison.Ordinal));
        Assert.Single(Lines(File(ops, "/etc/passwd")), l => l.Split(':')[2] == "0");
    }

    [Fact]
    public void Etc_passwd_has_one_line_per_uid_when_the_payload_runs_as_nobody()
    {
        var ops = new RootFsPlanner(FakeHostFileSystem.SplitUsr()).Plan(Spec, new IdentityView(65534, 65534));

        var uids = Lines(File(ops, "/etc/passwd")).Select(l => l.Split(':')[2]).ToList();
        Assert.Equal(uids.Distinct(), uids);
        Assert.Contains("65534", uids);
    }

    [Fact]
    public void Etc_hosts_names_the_sandbox_hostname()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr(), Spec.WithHostname("judge-7"));

        Assert.Contains("127.0.1.1\tjudge-7", Lines(File(ops, "/etc/hosts")));
    }

    [Fact]
    public void Etc_files_are_written_into_a_made_etc_directory_with_mode_0644()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr());

        int etc = ops.IndexOf(new MountOp(MountOpKind.MakeDirectory, "/etc", Mode: FileModes.Mode0755));
        var files = ops.Where(o => o.Kind == MountOpKind.WriteFile).ToList();
        Assert.True(etc >= 0);
        Assert.Equal(["/etc/passwd", "/etc/group", "/etc/hosts", "/etc/nsswitch.conf", "/etc/resolv.conf"], files.Select(f => f.Target));
        Assert.All(files, f => Assert.Equal(FileModes.Mode0644, f.Mode));
        Assert.All(files, f => Assert.True(ops.IndexOf(f) > etc));
    }

    [Fact]
    public void Resolv_conf_is_the_hosts_own_only_with_the_shared_network()
    {
        const string hostResolver = "nameserver 192.0.2.53\n";
        var shared = FakeHostFileSystem.SplitUsr().File("/etc/resolv.conf", hostResolver);
        var isolated = FakeHostFileSystem.SplitUsr().File("/etc/resolv.conf", hostResolver);

        var withHostNetwork = Plan(shared, Spec.WithSharedNetwork());
        var withOwnNetwork = Plan(isolated, Spec);

        Assert.Equal(hostResolver, File(withHostNetwork, "/etc/resolv.conf"));
        Assert.Equal(EtcFiles.NoResolver, File(withOwnNetwork, "/etc/resolv.conf"));
        Assert.DoesNotContain("/etc/resolv.conf", isolated.TextReads);
    }

    [Fact]
    public void Resolv_conf_is_empty_with_the_shared_network_when_the_host_has_none()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr(), Spec.WithSharedNetwork());

        Assert.Equal("", File(ops, "/etc/resolv.conf"));
    }

    [Fact]
    public void The_hosts_ld_so_cache_is_bound_read_only_onto_a_made_file_when_it_exists()
    {
        var with = Plan(FakeHostFileSystem.SplitUsr().File("/etc/ld.so.cache"));
        var without = Plan(FakeHostFileSystem.SplitUsr());

        Assert.Equal(
            [new MountOp(MountOpKind.MakeFile, "/etc/ld.so.cache", Mode: FileModes.Mode0644),
             new MountOp(MountOpKind.Bind, "/etc/ld.so.cache", Source: "/etc/ld.so.cache", Flags: ReadOnlyBind | MountFlags.Optional)],
            with.Where(o => o.Target == "/etc/ld.so.cache"));
        Assert.DoesNotContain(without, o => o.Target == "/etc/ld.so.cache");
    }

    [Fact]
    public void A_device_node_is_bound_only_when_the_host_has_it_as_a_character_device()
    {
        var fs = FakeHostFileSystem.SplitUsr()
            .CharacterDevice("/dev/null").CharacterDevice("/dev/zero")
            .File("/dev/random")               // a regular file pretending to be a device: not bound
            .Symlink("/dev/urandom", "/etc");  // a symlink: not bound
        var ops = Plan(fs);

        var bound = ops.Where(o => o.Kind == MountOpKind.Bind && SandboxPath.IsWithin(o.Target, "/dev")).ToList();
        Assert.Equal(["/dev/null", "/dev/zero"], bound.Select(b => b.Target));
        Assert.All(bound, b => Assert.Equal(b.Target, b.Source));
        Assert.All(bound, b => Assert.Equal(MountFlags.NoSuid | MountFlags.NoExec | MountFlags.Optional, b.Flags));
        foreach (var b in bound)
            Assert.Equal(new MountOp(MountOpKind.MakeFile, b.Target, Mode: FileModes.Mode0666), ops[ops.IndexOf(b) - 1]);
        Assert.DoesNotContain(ops, o => o.Target is "/dev/random" or "/dev/urandom" or "/dev/full" or "/dev/tty");
    }

    [Fact]
    public void Dev_is_a_small_tmpfs_with_pts_shm_and_the_standard_links()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr());

        Assert.Contains(ops, o => o is { Kind: MountOpKind.Tmpfs, Target: "/dev" } && o.Flags.HasFlag(MountFlags.NoExec) && o.Flags.HasFlag(MountFlags.NoSuid));
        Assert.Contains(ops, o => o is { Kind: MountOpKind.Devpts, Target: "/dev/pts" } && o.Data!.Contains("newinstance", StringComparison.Ordinal));
        Assert.Contains(new MountOp(MountOpKind.Symlink, "/dev/ptmx", Source: "pts/ptmx"), ops);
        Assert.Contains(ops, o => o is { Kind: MountOpKind.Tmpfs, Target: "/dev/shm" });
        Assert.Contains(new MountOp(MountOpKind.Symlink, "/dev/fd", Source: "/proc/self/fd"), ops);
        Assert.Contains(new MountOp(MountOpKind.Symlink, "/dev/stdin", Source: "/proc/self/fd/0"), ops);
        Assert.Contains(new MountOp(MountOpKind.Symlink, "/dev/stdout", Source: "/proc/self/fd/1"), ops);
        Assert.Contains(new MountOp(MountOpKind.Symlink, "/dev/stderr", Source: "/proc/self/fd/2"), ops);
    }

    [Fact]
    public void Dev_is_remounted_read_only_after_it_is_populated_and_before_the_user_mounts()
    {
        var fs = FakeHostFileSystem.SplitUsr().CharacterDevice("/dev/null").Directory("/srv/data");
        var ops = Plan(fs, Spec.AddReadOnlyBind("/srv/data", "/data").AddTmpfs("/scratch"));

        int remount = ops.IndexOf(new MountOp(MountOpKind.Remount, "/dev", Flags: MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoExec));
        int lastInDev = ops.FindLastIndex(o => o.Kind != MountOpKind.Remount && SandboxPath.IsWithin(o.Target, "/dev"));
        int firstUser = ops.FindIndex(o => o.Target is "/data" or "/scratch");
        Assert.True(remount >= 0, "/dev is never remounted read-only.");
        Assert.True(remount > lastInDev, $"/dev is remounted at step {remount}, before step {lastInDev} populates it.");
        Assert.True(remount < firstUser, $"/dev is remounted at step {remount}, after the first user mount at {firstUser}.");
        Assert.Single(ops, o => o.Kind == MountOpKind.Remount);
    }

    [Fact]
    public void Proc_is_mounted_nosuid_nodev_noexec_on_a_made_directory()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr());

        Assert.Equal(
            [new MountOp(MountOpKind.MakeDirectory, "/proc", Mode: FileModes.Mode0555),
             new MountOp(MountOpKind.Proc, "/proc", Flags: MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec)],
            ops.Where(o => o.Target == "/proc"));
    }

    [Fact]
    public void Tmp_is_a_tmpfs_of_the_specified_size_with_the_sticky_world_writable_mode()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr(), Spec.WithTmpSize(12345678));

        Assert.Equal(
            [new MountOp(MountOpKind.MakeDirectory, "/tmp", Mode: FileModes.Mode1777),
             new MountOp(MountOpKind.Tmpfs, "/tmp", Data: "size=12345678,mode=1777", Flags: MountFlags.NoSuid | MountFlags.NoDev)],
            ops.Where(o => o.Target == "/tmp"));
    }

    [Fact]
    public void A_bind_of_a_host_file_makes_an_empty_file_then_binds_it_read_only()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr().File("/srv/input.txt"), Spec.AddReadOnlyBind("/srv/input.txt", "/work/input.txt"));

        Assert.Equal(
            [new MountOp(MountOpKind.MakeFile, "/work/input.txt", Mode: FileModes.Mode0644),
             new MountOp(MountOpKind.Bind, "/work/input.txt", Source: "/srv/input.txt", Flags: ReadOnlyBind)],
            ops.Where(o => o.Target == "/work/input.txt"));
    }

    [Fact]
    public void A_bind_of_a_host_directory_makes_a_directory_then_binds_it_read_only()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr().Directory("/srv/data"), Spec.AddReadOnlyBind("/srv/data", "/data"));

        Assert.Equal(
            [new MountOp(MountOpKind.MakeDirectory, "/data", Mode: FileModes.Mode0755),
             new MountOp(MountOpKind.Bind, "/data", Source: "/srv/data", Flags: ReadOnlyBind)],
            ops.Where(o => o.Target == "/data"));
    }

    [Fact]
    public void A_writable_bind_lacks_only_the_read_only_flag()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr().Directory("/srv/out"), Spec.AddWritableBind("/srv/out", "/out"));

        var bind = Assert.Single(ops, o => o.Kind == MountOpKind.Bind && o.Target == "/out");
        Assert.Equal(ReadOnlyBind & ~MountFlags.ReadOnly, bind.Flags);
    }

    [Fact]
    public void A_bind_names_its_source_and_target_normalized()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr().Directory("/srv/data"), Spec.AddReadOnlyBind("/srv//x/../data/", "/a/./b/"));

        var bind = Assert.Single(ops, o => o.Kind == MountOpKind.Bind && o.Source == "/srv/data");
        Assert.Equal("/a/b", bind.Target);
        Assert.Contains(new MountOp(MountOpKind.MakeDirectory, "/a/b", Mode: FileModes.Mode0755), ops);
    }

    [Fact]
    public void A_user_mounts_ancestors_are_made_once_outermost_first_before_the_mount()
    {
        var fs = FakeHostFileSystem.SplitUsr().Directory("/srv/a").File("/srv/b");
        var spec = Spec.AddReadOnlyBind("/srv/a", "/data/x/a").AddReadOnlyBind("/srv/b", "/data/x/y/b").AddTmpfs("/data/t");
        var ops = Plan(fs, spec);

        var made = ops.Where(o => o.Kind == MountOpKind.MakeDirectory).Select(o => o.Target).ToList();
        Assert.Equal(made.Distinct(), made);
        Assert.Equal(["/data", "/data/x", "/data/x/a", "/data/x/y", "/data/t"], made.Where(p => SandboxPath.IsWithin(p, "/data")));
        foreach (var mount in ops.Where(o => o.Kind is MountOpKind.Bind or MountOpKind.Tmpfs))
        {
            foreach (var ancestor in SandboxPath.Ancestors(mount.Target))
            {
                int madeAt = ops.FindIndex(o => o.Kind == MountOpKind.MakeDirectory && o.Target == ancestor);
                if (madeAt >= 0)
                    Assert.True(madeAt < ops.IndexOf(mount), $"{ancestor} is made after the mount on {mount.Target}.");
            }
        }
    }

    [Fact]
    public void A_user_mount_under_a_directory_of_the_default_root_does_not_make_that_directory_again()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr(), Spec.AddTmpfs("/tmp/cache"));

        Assert.Single(ops, o => o.Kind == MountOpKind.MakeDirectory && o.Target == "/tmp");
        Assert.Contains(new MountOp(MountOpKind.MakeDirectory, "/tmp/cache", Mode: FileModes.Mode0755), ops);
    }

    [Fact]
    public void A_user_tmpfs_carries_its_size_and_the_sticky_world_writable_mode()
    {
        var ops = Plan(FakeHostFileSystem.SplitUsr(), Spec.AddTmpfs("/scratch", 1 << 20));

        Assert.Equal(
            [new MountOp(MountOpKind.MakeDirectory, "/scratch", Mode: FileModes.Mode0755),
             new MountOp(MountOpKind.Tmpfs, "/scratch", Data: "size=1048576,mode=1777", Flags: MountFlags.NoSuid | MountFlags.NoDev)],
            ops.Where(o => o.Target == "/scratch"));
    }

    [Fact]
    public void User_mounts_come_last_in_the_order_they_were_added()
    {
        var fs = FakeHostFileSystem.SplitUsr().Directory("/srv/a").Directory("/srv/b");
        var ops = Plan(fs, Spec.AddReadOnlyBind("/srv/b", "/z").AddTmpfs("/m").AddReadOnlyBind("/srv/a", "/a"));

        var mounts = ops.Where(o => o.Kind is MountOpKind.Bind or MountOpKind.Tmpfs).Select(o => o.Target).ToList();
        Assert.Equal(["/z", "/m", "/a"], mounts[^3..]);
    }

    [Fact]
    public void Planning_twice_with_the_same_planner_gives_the_same_plan()
    {
        var planner = new RootFsPlanner(FakeHostFileSystem.SplitUsr().Directory("/srv/a"));
        var spec = Spec.AddReadOnlyBind("/srv/a", "/data/a");

        var first = planner.Plan(spec, SandboxUser);
        var second = planner.Plan(spec, SandboxUser);

        Assert.Equal(first.AsEnumerable(), second.AsEnumerable());
    }

    [Theory]
    [InlineData(4096L, FileModes.Mode1777, "size=4096,mode=1777")]
    [InlineData(64L << 20, FileModes.Mode0755, "size=67108864,mode=755")]
    public void Tmpfs_options_give_the_size_in_bytes_and_the_mode_in_octal(long size, uint mode, string expected)
    {
        Assert.Equal(expected, RootFsPlanner.TmpfsOptions(size, mode));
    }

    private static List<MountOp> Plan(FakeHostFileSystem fs, SandboxSpec? spec = null) =>
        [.. new RootFsPlanner(fs).Plan(spec ?? Spec, SandboxUser)];

    private static string File(IEnumerable<MountOp> ops, string path) =>
        Assert.Single(ops, o => o.Kind == MountOpKind.WriteFile && o.Target == path).Data!;

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
