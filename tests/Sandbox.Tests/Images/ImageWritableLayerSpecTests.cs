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

    [Theory]
    [InlineData("relative/upper", "/w", "not an absolute path")]
    [InlineData("/up:per", "/w", "without ':'")]
    [InlineData("/same", "/same/", "both '/same'")]
    public void Unusable_directories_are_problems_naming_them(string upper, string work, string problem)
    {
        var problems = SandboxSpec.Command("/bin/true").WithImage(Image).WithImageWritableLayer(upper, work).Validate(hostIsRoot: false);

        Assert.Contains(problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void A_writable_layer_without_an_image_is_a_problem()
    {
        var problems = SandboxSpec.Command("/bin/true").WithImageWritableLayer("/u", "/w").Validate(hostIsRoot: false);

        Assert.Contains(problems, p => p.Contains("needs an image root", StringComparison.Ordinal));
    }
}
