using Sandbox.Images.Oci;
using Sandbox.Launch;
using Sandbox.RootFs;
using Sandbox.Tests.Fakes;

namespace Sandbox.Tests.Images;

/// <summary>A writable layer on disk: validated with the spec, planned as the overlay's host upper and work directories.</summary>
public sealed class ImageWritableLayerSpecTests
{
    private static readonly SandboxImage Image = new("test/busybox:v3", ["/store/layers/top/diff", "/store/layers/base/diff"], ContainerConfig.Empty, UserXattr: true);

    [Fact]
    public void The_overlay_writes_to_the_host_upper_and_work_directories_instead_of_a_tmpfs()
    {
        var spec = SandboxSpec.Command("/bin/true").WithImage(Image).WithImageWritableLayer("/store/containers/1/upper", "/store/containers/1/work");

        var ops = new RootFsPlanner(FakeHostFileSystem.SplitUsr()).Plan(spec, new IdentityView(1000, 1000));

        Assert.Empty(spec.Validate(hostIsRoot: false));
        Assert.Equal(new MountOp(MountOpKind.Overlay, "/", Source: "/store/layers/top/diff:/store/layers/base/diff",
            Data: "/store/containers/1/upper:/store/containers/1/work", Flags: MountFlags.NoSuid | MountFlags.NoDev | MountFlags.UserXattr | MountFlags.DiskUpper), ops[0]);
    }

    [Fact]
    public void With_a_setup_directory_its_mount_points_are_the_top_lower_layer_and_etc_files_are_bound_from_it_not_written()
    {
        var spec = SandboxSpec.Command("/bin/true").WithImage(Image).WithImageWritableLayer("/store/containers/1/upper", "/store/containers/1/work", "/store/containers/1/setup")
            .AddReadOnlyBind("/host/app.conf", "/etc/app.conf").AddReadOnlyBind("/host/dir", "/srv/data/").AddTmpfs("/scratch", 1 << 20);
        var host = FakeHostFileSystem.SplitUsr().File("/host/app.conf").Directory("/host/dir");

        var ops = new RootFsPlanner(host).Plan(spec, new IdentityView(1000, 1000));

        Assert.Empty(spec.Validate(hostIsRoot: false));
        Assert.Equal("/store/containers/1/setup/mountpoints:/store/layers/top/diff:/store/layers/base/diff", ops[0].Source);
        Assert.DoesNotContain(ops, o => o.Kind is MountOpKind.WriteFile or MountOpKind.MakeFile); // opening a file of the image to write copies it up
        Assert.Contains(ops, o => o.Kind == MountOpKind.Bind && o.Target == "/etc/app.conf");
        Assert.Equal([("/etc/app.conf", false), ("/srv/data", true), ("/scratch", true)], RootFsPlanner.MountTargets(spec, host).ToArray());
        Assert.Contains(new MountOp(MountOpKind.Bind, "/etc/hosts", Source: "/store/containers/1/setup/files/etc/hosts", Flags: MountFlags.NoSuid | MountFlags.NoDev | MountFlags.ReadOnly), ops);
        Assert.Contains(new MountOp(MountOpKind.Bind, "/etc/resolv.conf", Source: "/store/containers/1/setup/files/etc/resolv.conf", Flags: MountFlags.NoSuid | MountFlags.NoDev | MountFlags.ReadOnly), ops);
        var writable = new RootFsPlanner(host).Plan(spec.WithWritableRoot(), new IdentityView(1000, 1000));
        Assert.Contains(new MountOp(MountOpKind.Bind, "/etc/hosts", Source: "/store/containers/1/setup/files/etc/hosts", Flags: MountFlags.NoSuid | MountFlags.NoDev), writable);
    }

    [Fact]
    public void Without_a_setup_directory_the_etc_files_are_written_through_the_overlay()
    {
        var spec = SandboxSpec.Command("/bin/true").WithImage(Image).WithImageWritableLayer("/store/containers/1/upper", "/store/containers/1/work");

        var ops = new RootFsPlanner(FakeHostFileSystem.SplitUsr()).Plan(spec, new IdentityView(1000, 1000));

        Assert.Equal("/store/layers/top/diff:/store/layers/base/diff", ops[0].Source);
        Assert.Equal(["/etc/hosts", "/etc/resolv.conf"], ops.Where(o => o.Kind == MountOpKind.WriteFile).Select(o => o.Target).ToArray());
    }

    [Theory]
    [InlineData("relative/upper", "/w", "not an absolute path")]
    [InlineData("/up:per", "/w", "without ':'")]
    [InlineData("/same", "/same/", "both '/same'")]
    public void Unusable_directories_are_problems_naming_them(string upper, string work, string problem)
    {
        var problems = SandboxSpec.Command("/bin/true").WithImage(Image).WithImageWritableLayer(upper, work).Validate(hostIsRoot: false);

        Assert.Contains(problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("relative/setup", "setup directory 'relative/setup' is not an absolute path")]
    [InlineData("/set:up", "setup directory '/set:up' is not an absolute path without ':'")]
    public void An_unusable_setup_directory_is_a_problem_naming_it(string setup, string problem)
    {
        var problems = SandboxSpec.Command("/bin/true").WithImage(Image).WithImageWritableLayer("/u", "/w", setup).Validate(hostIsRoot: false);

        Assert.Contains(problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void A_setup_directory_without_a_writable_layer_is_a_problem()
    {
        var problems = (SandboxSpec.Command("/bin/true").WithImage(Image) with { ImageSetupDirectory = "/s" }).Validate(hostIsRoot: false);

        Assert.Contains(problems, p => p.Contains("ImageSetupDirectory needs a writable layer", StringComparison.Ordinal));
    }

    [Fact]
    public void A_writable_layer_without_an_image_is_a_problem()
    {
        var problems = SandboxSpec.Command("/bin/true").WithImageWritableLayer("/u", "/w").Validate(hostIsRoot: false);

        Assert.Contains(problems, p => p.Contains("needs an image root", StringComparison.Ordinal));
    }
}
