using Sandbox.Launch;
using Sandbox.Namespaces;
using Sandbox.RootFs;
using Sandbox.Tests.Fakes;

namespace Sandbox.Tests.Launch;

/// <summary>From a spec to the launch plan and the isolation it reports, on a fake host.</summary>
public sealed class LaunchPlannerTests
{
    private const uint Rootless = 1234;
    private const uint Root = 0;

    private static readonly SandboxSpec Spec = SandboxSpec.Command("/bin/echo", "hello", "world");

    [Fact]
    public void A_rootless_plan_maps_the_hosts_ids_denies_setgroups_and_keeps_groups()
    {
        var (plan, isolation) = PlanFor(Spec, Rootless);

        Assert.Equal("1000 1234 1\n", plan.UidMap);
        Assert.Equal("1000 1234 1\n", plan.GidMap);
        Assert.True(plan.Flags.HasFlag(PlanFlags.DenySetgroups));
        Assert.False(plan.Flags.HasFlag(PlanFlags.ClearGroups));
        Assert.Equal((1000u, 1000u), (plan.Uid, plan.Gid));
        Assert.True(isolation.Rootless);
        Assert.False(isolation.SupplementaryGroupsCleared);
        Assert.Equal("1000 1234 1", isolation.UidMap);
        Assert.Equal(new SandboxIdentity(1234, 1234), isolation.HostUser);
    }

    [Fact]
    public void A_root_plan_maps_to_the_host_identity_and_clears_groups()
    {
        var (plan, isolation) = PlanFor(Spec, Root);

        Assert.Equal("1000 65534 1\n", plan.UidMap);
        Assert.False(plan.Flags.HasFlag(PlanFlags.DenySetgroups));
        Assert.True(plan.Flags.HasFlag(PlanFlags.ClearGroups));
        Assert.False(isolation.Rootless);
        Assert.True(isolation.SupplementaryGroupsCleared);
        Assert.Equal(SandboxIdentity.Nobody, isolation.HostUser);
        Assert.Equal(SandboxIdentity.DefaultSandboxUser, isolation.User);
    }

    [Fact]
    public void A_root_plan_without_a_user_namespace_runs_as_the_host_identity_without_maps()
    {
        var (plan, isolation) = PlanFor(Spec.WithoutNamespaces(SandboxNamespaces.User).WithHostIdentity(2000, 3000), Root);

        Assert.Equal((2000u, 3000u), (plan.Uid, plan.Gid));
        Assert.Null(plan.UidMap);
        Assert.Null(plan.GidMap);
        Assert.Null(isolation.UidMap);
        Assert.Equal(0ul, plan.CloneFlags & CloneFlags.NewUser);
        Assert.Equal(new SandboxIdentity(2000, 3000), isolation.User);
        Assert.Equal(new SandboxIdentity(2000, 3000), isolation.HostUser);
    }

    [Theory]
    [InlineData(SandboxNamespaces.All)]
    [InlineData(SandboxNamespaces.User | SandboxNamespaces.Pid | SandboxNamespaces.Mount)]
    [InlineData(SandboxNamespaces.All & ~SandboxNamespaces.Network)]
    [InlineData(SandboxNamespaces.All & ~SandboxNamespaces.Cgroup & ~SandboxNamespaces.Ipc)]
    public void The_clone_flags_are_those_of_the_namespaces_asked_for_and_reported_as_such(SandboxNamespaces ns)
    {
        var (plan, isolation) = PlanFor(Spec.WithNamespaces(ns), Rootless);

        Assert.Equal(CloneFlags.For(ns), plan.CloneFlags);
        Assert.Equal(ns, isolation.Namespaces);
    }

    [Fact]
    public void Loopback_is_brought_up_only_in_a_network_namespace_of_its_own()
    {
        var (isolated, isolatedReport) = PlanFor(Spec, Rootless);
        var (shared, sharedReport) = PlanFor(Spec.WithSharedNetwork(), Rootless);

        Assert.True(isolated.Flags.HasFlag(PlanFlags.LoopbackUp));
        Assert.False(shared.Flags.HasFlag(PlanFlags.LoopbackUp));
        Assert.Equal(0ul, shared.CloneFlags & CloneFlags.NewNet);
        Assert.Equal(NetworkIsolation.LoopbackOnly, isolatedReport.Network);
        Assert.Equal(NetworkIsolation.SharedWithHost, sharedReport.Network);
    }

    [Fact]
    public void The_hostname_is_set_only_with_a_UTS_namespace()
    {
        var (withUts, _) = PlanFor(Spec.WithHostname("judge"), Rootless);
        var (withoutUts, _) = PlanFor(Spec.WithoutNamespaces(SandboxNamespaces.Uts), Rootless);

        Assert.Equal("judge", withUts.Hostname);
        Assert.Null(withoutUts.Hostname);
    }

    [Fact]
    public void The_root_is_read_only_as_the_spec_says_and_reported_as_such()
    {
        var (readOnly, readOnlyReport) = PlanFor(Spec, Rootless);
        var (writable, writableReport) = PlanFor(Spec.WithWritableRoot().WithTmpSize(1 << 20), Rootless);

        Assert.True(readOnly.Flags.HasFlag(PlanFlags.RootReadOnly));
        Assert.False(writable.Flags.HasFlag(PlanFlags.RootReadOnly));
        Assert.True(readOnlyReport.ReadOnlyRoot);
        Assert.False(writableReport.ReadOnlyRoot);
        Assert.Equal("size=1048576,mode=755", writable.RootOptions);
        Assert.StartsWith("size=1m,", readOnly.RootOptions, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_plan_builds_a_new_root_drops_capabilities_and_sets_no_new_privs()
    {
        foreach (uint euid in new[] { Rootless, Root })
        {
            var (plan, isolation) = PlanFor(Spec.WithWritableRoot().WithSharedNetwork(), euid);

            Assert.True(plan.Flags.HasFlag(PlanFlags.NewRoot | PlanFlags.DropCapabilities | PlanFlags.NoNewPrivileges));
            Assert.True(isolation.CapabilitiesDropped);
            Assert.True(isolation.NoNewPrivileges);
            Assert.False(isolation.EnvironmentInherited);
            Assert.True(isolation.NewSession);
        }
    }

    [Fact]
    public void The_program_is_argv0_followed_by_its_arguments()
    {
        var (plan, _) = PlanFor(Spec, Rootless);

        Assert.Equal(["/bin/echo", "hello", "world"], plan.Arguments.AsEnumerable());
    }

    [Fact]
    public void The_environment_is_exactly_the_specs_as_name_equals_value_in_ordinal_order()
    {
        var spec = Spec.WithEnvironment([new("b", "2"), new("B", "1"), new("a", "x=y")]);

        var (plan, _) = PlanFor(spec, Rootless);

        Assert.Equal(["B=1", "a=x=y", "b=2"], plan.Environment.AsEnumerable());
    }

    [Fact]
    public void The_default_environment_has_a_path_and_a_home_and_nothing_of_the_hosts()
    {
        var (plan, _) = PlanFor(Spec, Rootless);

        Assert.Equal(2, plan.Environment.Length);
        Assert.Contains(plan.Environment, e => e.StartsWith("PATH=", StringComparison.Ordinal));
        Assert.Contains("HOME=/tmp", plan.Environment.AsEnumerable());
    }

    [Fact]
    public void Core_dumps_are_off_and_the_open_file_limit_is_the_specs()
    {
        var (plan, _) = PlanFor(Spec.WithOpenFilesLimit(77), Rootless);

        Assert.Equal(
            [new ResourceLimit(ResourceLimit.Core, 0, 0), new ResourceLimit(ResourceLimit.NoFile, 77, 77)],
            plan.ResourceLimits.AsEnumerable());
    }

    [Fact]
    public void The_working_directory_is_normalized()
    {
        var (plan, _) = PlanFor(Spec.WithWorkingDirectory("/tmp//work/../out/"), Rootless);

        Assert.Equal("/tmp/out", plan.WorkingDirectory);
    }

    [Theory]
    [InlineData(10_000.0, 10_000u)]
    [InlineData(1.2, 2u)]
    [InlineData(0.001, 1u)]
    public void The_setup_timeout_is_rounded_up_to_whole_milliseconds(double milliseconds, uint expected)
    {
        var (plan, _) = PlanFor(Spec.WithSetupTimeout(TimeSpan.FromMilliseconds(milliseconds)), Rootless);

        Assert.Equal(expected, plan.SetupTimeoutMs);
    }

    [Fact]
    public void The_root_is_staged_on_the_first_real_directory_among_the_candidates()
    {
        var fs = FakeHostFileSystem.SplitUsr().Symlink("/tmp", "private/tmp").Directory("/run").Directory("/var/tmp");

        var (plan, _) = new LaunchPlanner(fs).Plan(Spec, Rootless, Rootless);

        Assert.Equal("/run", plan.RootStaging);
    }

    [Fact]
    public void A_host_without_a_staging_directory_is_unsupported()
    {
        var fs = FakeHostFileSystem.SplitUsr().Remove("/tmp");

        var thrown = Assert.Throws<SandboxUnsupportedException>(() => new LaunchPlanner(fs).Plan(Spec, Rootless, Rootless));

        Assert.Contains("/mnt", thrown.HowToGetIt, StringComparison.Ordinal);
    }

    [Fact]
    public void The_isolation_lists_every_mount_of_the_root_in_plan_order()
    {
        var fs = FakeHostFileSystem.SplitUsr().Directory("/srv/out").CharacterDevice("/dev/null");
        var (plan, isolation) = new LaunchPlanner(fs).Plan(Spec.AddWritableBind("/srv/out", "/out").AddTmpfs("/scratch", 8192), Rootless, Rootless);

        var mounts = plan.Mounts.Where(m => m.Kind is MountOpKind.Bind or MountOpKind.Tmpfs or MountOpKind.Proc or MountOpKind.Devpts).ToList();
        Assert.Equal(mounts.Count, isolation.Mounts.Length);
        Assert.Equal("/usr <- /usr (ro)", isolation.Mounts[0]);
        Assert.Contains("/proc proc", isolation.Mounts);
        Assert.Contains("/dev/pts devpts", isolation.Mounts);
        Assert.Equal("/out <- /srv/out (rw)", isolation.Mounts[^2]);
        Assert.Equal("/scratch tmpfs (size=8192,mode=1777)", isolation.Mounts[^1]);
    }

    [Fact]
    public void The_etc_files_name_the_ids_the_payload_runs_as()
    {
        var (plan, _) = PlanFor(Spec.WithoutNamespaces(SandboxNamespaces.User).WithHostIdentity(2000, 3000), Root);

        var passwd = Assert.Single(plan.Mounts, m => m.Target == "/etc/passwd").Data!;
        Assert.Contains("sandbox:x:2000:3000:", passwd, StringComparison.Ordinal);
    }

    [Fact]
    public void A_planned_spec_survives_the_wire_format()
    {
        var fs = FakeHostFileSystem.MergedUsr().Directory("/srv/data").File("/etc/ld.so.cache").CharacterDevice("/dev/null");
        var spec = Spec.AddReadOnlyBind("/srv/data", "/data").AddTmpfs("/scratch").WithEnvironmentVariable("LANG", "C.UTF-8");
        var (plan, _) = new LaunchPlanner(fs).Plan(spec, Rootless, Rootless);

        var read = PlanReader.Read(PlanWriter.Write(plan));

        Assert.True(read.Equivalent(plan), PlanGenerators.Describe(read));
        Assert.All(plan.Mounts, m => Assert.Equal(SandboxPath.Normalize(m.Target), m.Target));
    }

    [Fact]
    public void On_an_image_root_the_staging_tmpfs_is_sized_by_the_image_write_cap_as_it_holds_the_overlay_s_upper_layer()
    {
        var image = new SandboxImage("test/image:1", ["/store/layers/a/diff"], new Sandbox.Images.Oci.ContainerConfig(), UserXattr: true);

        var (readOnly, _) = PlanFor(Spec.WithImage(image).WithImageWriteSize(1 << 20), Rootless);
        var (writable, _) = PlanFor(Spec.WithImage(image).WithImageWriteSize(2 << 20).WithWritableRoot().WithTmpSize(4096), Rootless);

        Assert.Equal("size=1048576,mode=755", readOnly.RootOptions);
        Assert.Equal("size=2097152,mode=755", writable.RootOptions);
    }

    [Fact]
    public void Root_s_image_in_a_user_namespace_is_idmapped_read_with_userxattr_and_mapped_to_root_s_subordinate_ids()
    {
        var image = new SandboxImage("test/image:1", ["/store/layers/b/diff", "/store/layers/a/diff"], new Sandbox.Images.Oci.ContainerConfig(), UserXattr: false)
        {
            CarriesUserXattr = true,
        };
        var fs = FakeHostFileSystem.SplitUsr().File("/etc/subuid", "root:200000:65536\n").File("/etc/subgid", "root:300000:65536\n");

        var (plan, isolation) = new LaunchPlanner(fs).Plan(Spec.WithImage(image), 0, 0);
        var (given, _) = new LaunchPlanner(fs).Plan(Spec.WithImage(image).WithHostIdRange(new HostIdRange(7000000, 8000000, 65536)), 0, 0);
        var (without, _) = new LaunchPlanner(fs).Plan(Spec.WithImage(image).WithoutNamespaces(SandboxNamespaces.User), 0, 0);

        Assert.True(plan.IdmapImageLayers);
        Assert.Equal(("0 200000 65536\n", "0 300000 65536\n"), (plan.UidMap, plan.GidMap));
        Assert.Equal(new SandboxIdentity(201000, 301000), isolation.HostUser);
        Assert.Contains(isolation.Mounts, m => m.StartsWith("/ overlay of 2 layer(s) idmapped through the sandbox's id maps, writes to a tmpfs", StringComparison.Ordinal));
        var overlay = plan.Mounts.Single(m => m.Kind == MountOpKind.Overlay);
        Assert.True(overlay.Flags.HasFlag(MountFlags.UserXattr));
        Assert.True(overlay.LayerFds.IsDefaultOrEmpty); // the runner fills them in with the fds it holds
        Assert.Equal("0 7000000 65536\n", given.UidMap);
        Assert.False(without.IdmapImageLayers);
        Assert.False(without.Mounts.Single(m => m.Kind == MountOpKind.Overlay).Flags.HasFlag(MountFlags.UserXattr));
    }

    private static (LaunchPlan Plan, AppliedIsolation Isolation) PlanFor(SandboxSpec spec, uint euid)
    {
        Assert.Empty(spec.Validate(hostIsRoot: euid == 0));
        return new LaunchPlanner(FakeHostFileSystem.SplitUsr()).Plan(spec, euid, euid);
    }
}
