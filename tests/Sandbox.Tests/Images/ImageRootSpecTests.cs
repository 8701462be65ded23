using System.Collections.Immutable;
using FsCheck;
using FsCheck.Xunit;
using Sandbox.Images;
using Sandbox.Images.Oci;
using Sandbox.Launch;
using Sandbox.RootFs;
using Sandbox.Tests.Fakes;

namespace Sandbox.Tests.Images;

/// <summary>An image root: the config applied to the spec, the image's user resolved, and the overlay planned first.</summary>
public sealed class ImageRootSpecTests
{
    private static readonly SandboxImage Image = new("test/busybox:v3", ["/store/layers/top/diff", "/store/layers/base/diff"],
        new ContainerConfig
        {
            Env = ["PATH=/image/bin", "FOO=bar", "HOME=/root"],
            Entrypoint = ["/bin/sh"],
            Cmd = ["-c", "echo hi"],
            WorkingDir = "/work",
        },
        UserXattr: false);

    private const string Passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1001:1002::/home/app:/bin/sh\n";
    private const string Group = "root:x:0:\nstaff:x:50:app\n";

    [Fact]
    public void The_image_s_env_replaces_the_defaults_but_not_what_the_spec_set_and_its_command_runs_without_a_program()
    {
        var spec = SandboxSpec.Command("").WithEnvironmentVariable("FOO", "mine").WithImage(Image);

        Assert.Equal("/image/bin", spec.Environment["PATH"]);
        Assert.Equal("mine", spec.Environment["FOO"]);
        Assert.Equal("/root", spec.Environment["HOME"]);
        Assert.Equal("/work", spec.WorkingDirectory);
        Assert.Equal("/bin/sh", spec.Program);
        Assert.Equal(["-c", "echo hi"], spec.Arguments.ToArray());
    }

    [Fact]
    public void A_program_and_working_directory_of_the_spec_win_over_the_image_s()
    {
        var spec = SandboxSpec.Command("/bin/true", "x").WithWorkingDirectory("/tmp").WithImage(Image);

        Assert.Equal("/bin/true", spec.Program);
        Assert.Equal(["x"], spec.Arguments.ToArray());
        Assert.Equal("/tmp", spec.WorkingDirectory);
    }

    [Fact]
    public void A_root_unpacked_image_in_a_user_namespace_and_an_image_without_a_command_are_reported_together()
    {
        var image = Image with { Config = ContainerConfig.Empty, UserProblem = "user problem" };

        var problems = SandboxSpec.Command("").WithImage(image).Validate(hostIsRoot: true);

        Assert.Contains("user problem", problems);
        Assert.Contains(problems, p => p.Contains("trusted.overlay", StringComparison.Ordinal) && p.Contains("import or pull the image again", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("no Entrypoint or Cmd", StringComparison.Ordinal));
        Assert.Empty(SandboxSpec.Command("/bin/true").WithImage(Image).WithoutNamespaces(SandboxNamespaces.User).Validate(hostIsRoot: true));
    }

    [Theory]
    [InlineData("carries", true, null)]
    [InlineData("carries", false, "only a root host")]
    [InlineData("uid 70000", true, "outside the 65536 ids")]
    [InlineData("disk upper", true, "WithImageWritableLayer")]
    [InlineData("empty range", true, "is empty or runs past the last id")]
    [InlineData("range past the end", true, "is empty or runs past the last id")]
    [InlineData("without user namespace", true, null)]
    public void Root_s_image_with_user_xattrs_runs_in_a_user_namespace_on_a_root_host_within_its_block_of_ids(string variant, bool hostIsRoot, string? problem)
    {
        var spec = SandboxSpec.Command("/bin/true").WithImage(Image with { CarriesUserXattr = true });
        spec = variant switch
        {
            "uid 70000" => spec.WithUser(70000, 0),
            "disk upper" => spec.WithImageWritableLayer("/store/w/upper", "/store/w/work"),
            "empty range" => spec.WithHostIdRange(new HostIdRange(100000, 100000, 0)),
            "range past the end" => spec.WithHostIdRange(new HostIdRange(uint.MaxValue - 10, 100000, 65536)),
            "without user namespace" => spec.WithImageWritableLayer("/store/w/upper", "/store/w/work").WithoutNamespaces(SandboxNamespaces.User),
            _ => spec,
        };

        var problems = spec.Validate(hostIsRoot);

        if (problem is null)
            Assert.Empty(problems);
        else
            Assert.Contains(problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void The_root_is_an_overlay_of_the_layers_top_first_before_proc_dev_and_tmp_and_no_host_directory_is_bound()
    {
        var spec = SandboxSpec.Command("/bin/true").WithImage(Image with { UserXattr = true }).WithImageWriteSize(1 << 20);

        var ops = new RootFsPlanner(FakeHostFileSystem.SplitUsr()).Plan(spec, new IdentityView(1000, 1000));

        Assert.Equal(new MountOp(MountOpKind.Overlay, "/", Source: "/store/layers/top/diff:/store/layers/base/diff",
            Data: "size=1048576,mode=755", Flags: MountFlags.NoSuid | MountFlags.NoDev | MountFlags.UserXattr), ops[0]);
        Assert.DoesNotContain(ops, o => o.Kind == MountOpKind.Bind && RootFsPlanner.SystemDirectories.Contains(o.Target));
        Assert.DoesNotContain(ops, o => o.Target == "/etc/passwd");
        Assert.Contains(ops, o => o.Kind == MountOpKind.Proc);
        Assert.Contains(ops, o => o.Kind == MountOpKind.Tmpfs && o.Target == "/tmp");
    }

    [Theory]
    [InlineData("app", 1001u, 1002u)]
    [InlineData("app:staff", 1001u, 50u)]
    [InlineData("1001", 1001u, 1002u)]
    [InlineData("5:staff", 5u, 50u)]
    [InlineData("0", 0u, 0u)]
    public void A_user_name_or_number_becomes_ids_through_the_image_s_passwd_and_group(string user, uint uid, uint gid)
    {
        var (identity, problem) = ImageUser.Resolve(user, Files);

        Assert.Null(problem);
        Assert.Equal(new SandboxIdentity(uid, gid), identity);
    }

    [Theory]
    [InlineData("nobody-here")]
    [InlineData("app:wheel")]
    public void An_unknown_user_or_group_is_a_problem_naming_it(string user)
    {
        var (identity, problem) = ImageUser.Resolve(user, Files);

        Assert.Null(identity);
        Assert.Contains(user.Split(':')[^1], problem, StringComparison.Ordinal);
    }

    [Property]
    public bool Numeric_users_need_no_files(uint uid, uint gid)
    {
        if (uid == uint.MaxValue || gid == uint.MaxValue) return true;
        return ImageUser.Resolve($"{uid}:{gid}", _ => null) == (new SandboxIdentity(uid, gid), null)
            && ImageUser.Resolve($"{uid}", _ => null) == (new SandboxIdentity(uid, uid), null);
    }

    private static string? Files(string path) => path switch
    {
        "etc/passwd" => Passwd,
        "etc/group" => Group,
        _ => null,
    };
}
