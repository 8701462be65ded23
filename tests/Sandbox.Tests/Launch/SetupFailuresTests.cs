using Sandbox.Interop;
using Sandbox.Launch;

namespace Sandbox.Tests.Launch;

/// <summary>The launcher's (stage, errno, op index, detail) turned into a typed exception that says how to fix it.</summary>
public sealed class SetupFailuresTests
{
    private const string GenericStepFix = "of the mount plan failed";
    private const string GenericFix = "This step should not fail";

    private static readonly LaunchPlan Plan = new()
    {
        Arguments = ["/bin/prog"],
        Mounts =
        [
            new MountOp(MountOpKind.MakeDirectory, "/data"),
            new MountOp(MountOpKind.Bind, "/data", Source: "/srv/data", Flags: MountFlags.ReadOnly),
            new MountOp(MountOpKind.Tmpfs, "/scratch", Data: "size=4096"),
        ],
    };

    /// <summary>Every (stage, errno) with a fix of its own, and the mount step it fails on (-1: none).</summary>
    public static TheoryData<SetupStage, string, int> Table => new()
    {
        { SetupStage.OpenBindSource, "ENOENT", 1 },
        { SetupStage.OpenBindSource, "ELOOP", 1 },
        { SetupStage.OpenBindSource, "EACCES", 1 },
        { SetupStage.ResolveTarget, "ELOOP", 1 },
        { SetupStage.ResolveTarget, "ENOENT", 0 },
        { SetupStage.ResolveTarget, "ENOTDIR", 2 },
        { SetupStage.MakeDirectory, "EROFS", 0 },
        { SetupStage.MakeFile, "EROFS", 0 },
        { SetupStage.MakeDirectory, "EEXIST", 0 },
        { SetupStage.MakeFile, "EEXIST", 0 },
        { SetupStage.Bind, "ENOTDIR", 1 },
        { SetupStage.Bind, "EINVAL", 1 },
        { SetupStage.Proc, "EPERM", -1 },
        { SetupStage.WriteUidMap, "EPERM", -1 },
        { SetupStage.WriteGidMap, "EPERM", -1 },
        { SetupStage.Chdir, "ENOENT", -1 },
        { SetupStage.Chdir, "EACCES", -1 },
        { SetupStage.ExecPayload, "ENOENT", -1 },
        { SetupStage.ExecPayload, "EACCES", -1 },
        { SetupStage.ExecPayload, "ENOEXEC", -1 },
        { SetupStage.SetupTimeout, "ETIMEDOUT", -1 },
        { SetupStage.Hostname, "EINVAL", -1 },
        { SetupStage.ExecInit, "EACCES", -1 },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void A_known_failure_becomes_a_setup_exception_with_its_stage_errno_path_and_own_fix(SetupStage stage, string errnoName, int opIndex)
    {
        int errno = Errno(errnoName);

        var thrown = SetupFailures.From(new NativeSetupError(stage, errno, opIndex, "/detail/from/launcher"), Plan);

        var setup = Assert.IsType<SandboxSetupException>(thrown);
        Assert.Equal(stage, setup.Stage);
        Assert.Equal(errno, setup.Errno);
        Assert.Equal(errnoName, setup.ErrnoName);
        Assert.Equal(ExpectedPath(stage, opIndex), setup.Path);
        Assert.False(string.IsNullOrWhiteSpace(setup.Fix));
        Assert.DoesNotContain(GenericStepFix, setup.Fix, StringComparison.Ordinal);
        Assert.DoesNotContain(GenericFix, setup.Fix, StringComparison.Ordinal);
        Assert.Contains(errnoName, setup.Message, StringComparison.Ordinal);
        Assert.Contains($"'{setup.Path}'", setup.Message, StringComparison.Ordinal);
        Assert.Contains(setup.Fix, setup.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failure_to_open_a_bind_source_names_the_host_path_not_the_target()
    {
        var thrown = (SandboxSetupException)SetupFailures.From(new NativeSetupError(SetupStage.OpenBindSource, Errno("ENOENT"), 1, "ignored"), Plan);

        Assert.Equal("/srv/data", thrown.Path);
        Assert.Contains("mount step 1: Bind /data <- /srv/data", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_mount_step_names_its_target()
    {
        var thrown = (SandboxSetupException)SetupFailures.From(new NativeSetupError(SetupStage.Tmpfs, Errno("ENOSPC"), 2, "ignored"), Plan);

        Assert.Equal("/scratch", thrown.Path);
        Assert.Contains(GenericStepFix, thrown.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    [InlineData(int.MaxValue)]
    public void A_failure_outside_the_mount_plan_names_the_launchers_detail(int opIndex)
    {
        var thrown = (SandboxSetupException)SetupFailures.From(new NativeSetupError(SetupStage.Setuid, Errno("EPERM"), opIndex, "uid 1000"), Plan);

        Assert.Equal("uid 1000", thrown.Path);
        Assert.Contains(GenericFix, thrown.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("EPERM")]
    [InlineData("ENOSPC")]
    [InlineData("EUSERS")]
    [InlineData("EINVAL")]
    public void A_refused_clone_means_namespaces_are_unsupported_on_this_host(string errnoName)
    {
        var thrown = SetupFailures.From(new NativeSetupError(SetupStage.Clone, Errno(errnoName), -1, ""), Plan);

        var unsupported = Assert.IsType<SandboxUnsupportedException>(thrown);
        Assert.Contains(errnoName, unsupported.Feature, StringComparison.Ordinal);
        Assert.Contains("user.max_user_namespaces", unsupported.HowToGetIt, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("EBUSY")]
    [InlineData("EOPNOTSUPP")]
    [InlineData("EACCES")]
    [InlineData("ENODEV")]
    public void A_clone3_into_the_sandbox_cgroup_that_the_kernel_refuses_is_a_setup_failure_saying_what_the_cgroup_must_be(string errnoName)
    {
        var thrown = SetupFailures.From(new NativeSetupError(SetupStage.Clone, Errno(errnoName), -1, "clone3 into the sandbox cgroup"), Plan);

        var setup = Assert.IsType<SandboxSetupException>(thrown);
        Assert.Equal(errnoName, setup.ErrnoName);
        Assert.Contains("CLONE_INTO_CGROUP", setup.Fix, StringComparison.Ordinal);
        Assert.Contains(errnoName, setup.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_clone_failing_for_want_of_memory_is_a_setup_failure()
    {
        var thrown = SetupFailures.From(new NativeSetupError(SetupStage.Clone, Errno("ENOMEM"), -1, ""), Plan);

        Assert.Equal(SetupStage.Clone, Assert.IsType<SandboxSetupException>(thrown).Stage);
    }

    [Fact]
    public void A_bind_without_the_new_mount_api_means_the_kernel_is_too_old()
    {
        var thrown = SetupFailures.From(new NativeSetupError(SetupStage.Bind, Errno("ENOSYS"), 1, ""), Plan);

        Assert.Contains("5.12", Assert.IsType<SandboxUnsupportedException>(thrown).HowToGetIt, StringComparison.Ordinal);
    }

    [Fact]
    public void An_errno_without_a_name_is_reported_by_number()
    {
        var thrown = (SandboxSetupException)SetupFailures.From(new NativeSetupError(SetupStage.Rlimit, 4095, -1, ""), Plan);

        Assert.Equal("errno 4095", thrown.ErrnoName);
    }

    [Theory]
    [InlineData("EINVAL")]
    [InlineData("EPERM")]
    public void A_refused_overlay_of_idmapped_layers_names_the_kernel_it_needs_and_the_way_around(string errno)
    {
        var overlay = new MountOp(MountOpKind.Overlay, "/", "/store/b/diff:/store/a/diff", "size=4096", MountFlags.UserXattr) { LayerFds = [40, 41] };
        var plain = overlay with { LayerFds = [] };

        var idmapped = (SandboxSetupException)SetupFailures.From(new NativeSetupError(SetupStage.Overlay, Errno(errno), 0, "/store/a/diff"), Plan with { Mounts = [overlay] });
        var other = (SandboxSetupException)SetupFailures.From(new NativeSetupError(SetupStage.Overlay, Errno(errno), 0, "/store/a/diff"), Plan with { Mounts = [plain] });

        Assert.Equal("/store/a/diff", idmapped.Path);
        Assert.Contains("Linux 6.13", idmapped.Message, StringComparison.Ordinal);
        Assert.Contains("WithoutNamespaces(SandboxNamespaces.User)", idmapped.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("6.13", other.Message, StringComparison.Ordinal);
    }

    private static string ExpectedPath(SetupStage stage, int opIndex) => opIndex switch
    {
        < 0 => "/detail/from/launcher",
        _ when stage == SetupStage.OpenBindSource => Plan.Mounts[opIndex].Source!,
        _ => Plan.Mounts[opIndex].Target,
    };

    /// <summary>An errno by name, through <see cref="ErrnoNames"/> (whose numbers PlanLayoutTests checks against errno.h).</summary>
    private static int Errno(string name) =>
        Enumerable.Range(1, 200).Single(n => ErrnoNames.Of(n) == name);
}
