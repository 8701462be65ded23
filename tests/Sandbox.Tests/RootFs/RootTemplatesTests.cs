using Sandbox.Interop;
using Sandbox.Launch;
using Sandbox.RootFs;
using Sandbox.Tests.Cgroups;
using Sandbox.Tests.Fakes;

namespace Sandbox.Tests.RootFs;

/// <summary>The runner's root templates through the seam: when one is built, reused, made again, dropped, or not used at all.</summary>
public sealed class RootTemplatesTests
{
    private const int ENOENT = 2, EINVAL = 22;

    private static readonly SandboxSpec Spec = SandboxSpec.Command("/bin/true");

    private static FakeHostFileSystem Host() =>
        FakeHostFileSystem.MergedUsr().File("/etc/ld.so.cache").CharacterDevice("/dev/null").Directory("/srv/data");

    private static FakeSyscalls Kernel() => new(0, _ => throw new InvalidOperationException("launched")) { RootTemplateError = null };

    private static LaunchPlan Plan(FakeHostFileSystem fs, SandboxSpec? spec = null) => new LaunchPlanner(fs).Plan(spec ?? Spec, 0, 0).Plan;

    [Fact]
    public void The_first_launch_builds_the_template_and_its_namespace_and_the_plan_is_born_there_with_only_the_fresh_steps()
    {
        var kernel = Kernel();
        using var templates = new RootTemplates(kernel);
        var plan = Plan(Host());

        var (applied, lease) = templates.Apply(plan);

        using (lease)
        {
            var (built, tree) = Assert.Single(kernel.RootTemplates);
            var (madeFrom, ns) = Assert.Single(kernel.RootNamespaces);
            // Read back from the wire, which carries no source identity: compared as the plan compares steps.
            Assert.True(RootTemplates.Split(plan.Mounts)!.Value.Template.SequenceEqual(built.Mounts));
            Assert.Equal(plan.RootOptions, built.RootOptions);
            Assert.Same(tree, madeFrom);
            Assert.Equal((int)ns.DangerousGetHandle(), applied.RootNamespaceFd);
            Assert.Equal(-1, applied.RootTemplateFd);
            Assert.True(RootTemplates.Split(plan.Mounts)!.Value.Fresh.SequenceEqual(applied.Mounts));
            Assert.Equal(plan with { Mounts = applied.Mounts, RootNamespaceFd = applied.RootNamespaceFd }, applied with { Mounts = applied.Mounts });
        }
    }

    [Fact]
    public void A_rootless_host_builds_its_template_as_root_of_a_user_namespace_of_its_own_and_its_launches_copy_it()
    {
        var kernel = new FakeSyscalls(1000, _ => throw new InvalidOperationException("launched")) { RootTemplateError = null };
        using var templates = new RootTemplates(kernel);
        var plan = new LaunchPlanner(Host()).Plan(Spec, 1000, 1000).Plan;

        var (applied, lease) = templates.Apply(plan);
        lease!.Dispose();

        var (built, tree) = Assert.Single(kernel.RootTemplates);
        Assert.Equal("0 1000 1\n", built.UidMap);
        Assert.Equal("0 1000 1\n", built.GidMap);
        Assert.True(built.Flags.HasFlag(PlanFlags.DenySetgroups));
        Assert.Empty(kernel.RootNamespaces); // it could not enter one: setns needs CAP_SYS_ADMIN where the host is
        Assert.True(applied is { RootNamespaceFd: -1 });
        Assert.Equal((int)tree.DangerousGetHandle(), applied.RootTemplateFd);
    }

    [Fact]
    public void Fresh_steps_that_name_a_host_path_copy_the_template_instead_of_being_born_in_its_namespace()
    {
        var kernel = Kernel();
        using var templates = new RootTemplates(kernel);
        var plan = Plan(Host(), Spec.AddReadOnlyBind("/srv/data", "/tmp/data")); // inside /tmp: a fresh bind of a host path

        var (applied, lease) = templates.Apply(plan);

        using (lease)
        {
            Assert.Equal((int)kernel.RootTemplates[0].Tree.DangerousGetHandle(), applied.RootTemplateFd);
            Assert.Equal(-1, applied.RootNamespaceFd);
            Assert.Contains(applied.Mounts, m => m is { Kind: MountOpKind.Bind, Target: "/tmp/data" });
        }
    }

    [Fact]
    public void A_cgroup_join_by_path_copies_the_template_and_a_join_by_fds_is_born_in_its_namespace()
    {
        var kernel = Kernel();
        using var templates = new RootTemplates(kernel);
        var byPath = Plan(Host()) with { CgroupProcsFiles = ["/sys/fs/cgroup/pids/sandbox-1/cgroup.procs"] };

        var (pathPlan, pathLease) = templates.Apply(byPath);
        var (fdPlan, fdLease) = templates.Apply(byPath with { CgroupProcsFds = [42] });
        pathLease!.Dispose();
        fdLease!.Dispose();

        Assert.True(pathPlan is { RootTemplateFd: >= 0, RootNamespaceFd: -1 });
        Assert.True(fdPlan is { RootTemplateFd: -1, RootNamespaceFd: >= 0 });
    }

    [Fact]
    public void A_template_whose_namespace_was_refused_is_copied_by_each_launch()
    {
        var kernel = Kernel();
        kernel.RootNamespaceError = new NativeSetupError(SetupStage.Proc, 1, -1, "/proc");
        using var templates = new RootTemplates(kernel);

        var (applied, lease) = templates.Apply(Plan(Host()));
        lease!.Dispose();

        Assert.Equal((int)kernel.RootTemplates[0].Tree.DangerousGetHandle(), applied.RootTemplateFd);
        Assert.Equal(-1, applied.RootNamespaceFd);
    }

    [Fact]
    public void Launches_with_the_same_mounts_share_one_template()
    {
        var kernel = Kernel();
        using var templates = new RootTemplates(kernel);
        var fs = Host();

        for (int i = 0; i < 3; i++)
            templates.Apply(Plan(fs)).Lease!.Dispose();

        Assert.Equal(1, templates.Builds);
        Assert.Equal(1, templates.Held);
    }

    [Fact]
    public void Another_file_put_where_a_bind_source_was_gets_a_new_template()
    {
        var kernel = Kernel();
        using var templates = new RootTemplates(kernel);
        var fs = Host();
        templates.Apply(Plan(fs)).Lease!.Dispose();

        fs.Replace("/etc/ld.so.cache"); // ldconfig writes a new cache and renames it over the old one
        templates.Apply(Plan(fs)).Lease!.Dispose();

        Assert.Equal(2, kernel.RootTemplates.Count);
        // The old one would only pin the file that is gone: closed, with its namespace.
        Assert.True(kernel.RootTemplates[0].Tree.IsClosed);
        Assert.True(kernel.RootNamespaces[0].Namespace.IsClosed);
        Assert.Equal(1, templates.Held);
    }

    [Fact]
    public void A_template_no_launch_asks_for_is_closed_after_the_idle_timeout_and_one_in_use_stays()
    {
        var kernel = Kernel();
        var clock = new ManualTimeProvider();
        using var templates = new RootTemplates(kernel, TimeSpan.FromSeconds(60), clock);
        var fs = Host();
        templates.Apply(Plan(fs)).Lease!.Dispose();
        clock.Advance(TimeSpan.FromSeconds(30));
        templates.Apply(Plan(fs, Spec.WithHostname("other"))).Lease!.Dispose();
        clock.Advance(TimeSpan.FromSeconds(29));
        templates.Apply(Plan(fs)).Lease!.Dispose(); // asked for again within its minute

        clock.Advance(TimeSpan.FromSeconds(31)); // "other" idle for 60 s, the first for 31 s
        Assert.Equal(1, templates.Held);
        Assert.True(kernel.RootTemplates[1].Tree.IsClosed);
        Assert.False(kernel.RootTemplates[0].Tree.IsClosed);
        clock.Advance(TimeSpan.FromSeconds(29));

        Assert.Equal(0, templates.Held);
        Assert.All(kernel.RootTemplates, t => Assert.True(t.Tree.IsClosed));
        Assert.All(kernel.RootNamespaces, n => Assert.True(n.Namespace.IsClosed));
        Assert.Equal(2, templates.Builds);
    }

    [Fact]
    public void Other_mounts_get_their_own_template_and_the_least_recently_used_is_closed_past_the_capacity()
    {
        var kernel = Kernel();
        using var templates = new RootTemplates(kernel);
        var fs = Host();
        for (int i = 0; i <= RootTemplates.Capacity; i++)
            templates.Apply(Plan(fs, Spec.WithHostname($"host{i}"))).Lease!.Dispose();

        Assert.Equal(RootTemplates.Capacity + 1, kernel.RootTemplates.Count);
        Assert.Equal(RootTemplates.Capacity, templates.Held);
        Assert.True(kernel.RootTemplates[0].Tree.IsClosed);
        Assert.All(kernel.RootTemplates.Skip(1), t => Assert.False(t.Tree.IsClosed));
    }

    [Fact]
    public void A_lease_keeps_a_dropped_template_open_until_the_launch_lets_go()
    {
        var kernel = Kernel();
        kernel.RootTemplatesOpenDevNull = true;
        var templates = new RootTemplates(kernel);
        var (_, lease) = templates.Apply(Plan(Host()));
        int fd = lease!.Fd;

        templates.Dispose(); // drops every template, as eviction drops one
        bool open = File.Exists($"/proc/self/fd/{fd}"); // a held fd cannot have been reused
        lease!.Dispose();

        Assert.True(open);
        Assert.True(kernel.RootTemplates[0].Tree.IsClosed);
        Assert.Equal(0, templates.Held);
    }

    [Fact]
    public void A_kernel_that_cannot_build_templates_is_asked_once_and_every_plan_stays_whole()
    {
        var kernel = Kernel();
        kernel.RootTemplateError = new NativeSetupError(SetupStage.Tmpfs, EINVAL, 7, "dev");
        using var templates = new RootTemplates(kernel);
        var plan = Plan(Host());

        var first = templates.Apply(plan);
        var second = templates.Apply(Plan(Host(), Spec.WithHostname("other")));

        Assert.Same(plan, first.Plan);
        Assert.Null(first.Lease);
        Assert.Null(second.Lease);
        Assert.Equal(1, templates.Builds);
        Assert.Contains("6.15", templates.Unavailable);
    }

    [Fact]
    public void A_template_refused_for_one_of_its_mounts_leaves_that_plan_whole_without_asking_again_and_others_still_get_one()
    {
        var kernel = Kernel();
        kernel.RootTemplateError = new NativeSetupError(SetupStage.OpenBindSource, ENOENT, 3, "/srv/data");
        using var templates = new RootTemplates(kernel);
        var broken = Plan(Host(), Spec.AddReadOnlyBind("/srv/data", "/data"));

        Assert.Null(templates.Apply(broken).Lease);
        Assert.Null(templates.Apply(broken).Lease); // the launch itself reports the missing source
        kernel.RootTemplateError = null;
        using var other = templates.Apply(Plan(Host())).Lease;

        Assert.NotNull(other);
        Assert.Null(templates.Unavailable);
        Assert.Equal(2, templates.Builds);
    }

    [Fact]
    public void A_writable_root_and_an_image_root_get_their_dev_from_a_template_attached_where_its_tmpfs_was()
    {
        var kernel = Kernel();
        using var templates = new RootTemplates(kernel);
        var writable = Plan(Host(), Spec.WithWritableRoot());
        var image = writable with
        {
            Flags = writable.Flags | PlanFlags.RootReadOnly,
            Mounts = writable.Mounts.Insert(0, new MountOp(MountOpKind.Overlay, "/", Source: "/layers/a", Data: "size=1m")),
        };

        var (writableApplied, writableLease) = templates.Apply(writable);
        var (imageApplied, imageLease) = templates.Apply(image);
        writableLease!.Dispose();
        imageLease!.Dispose();

        var (built, tree) = Assert.Single(kernel.RootTemplates); // one /dev for both
        Assert.Equal(MountFlags.NoSuid | MountFlags.NoExec, built.TemplateRootFlags);
        Assert.Equal("size=64k,nr_inodes=64,mode=0755", built.RootOptions);
        Assert.Contains(built.Mounts, m => m is { Kind: MountOpKind.Bind, Target: "/null", Source: "/dev/null" });
        Assert.DoesNotContain(built.Mounts, m => m.Kind is MountOpKind.Devpts or MountOpKind.Tmpfs or MountOpKind.Remount);
        foreach (var applied in new[] { writableApplied, imageApplied })
        {
            var attach = Assert.Single(applied.Mounts, m => m.Kind == MountOpKind.Attach);
            Assert.Equal("/dev", attach.Target);
            Assert.Equal([(int)tree.DangerousGetHandle()], attach.LayerFds.ToArray());
            Assert.DoesNotContain(applied.Mounts, m => m.Target == "/dev/null" || (m.Kind == MountOpKind.Tmpfs && m.Target == "/dev"));
            Assert.Contains(applied.Mounts, m => m is { Kind: MountOpKind.Devpts, Target: "/dev/pts" });
            Assert.Contains(applied.Mounts, m => m is { Kind: MountOpKind.Remount, Target: "/dev" });
            Assert.True(applied is { RootTemplateFd: -1, RootNamespaceFd: -1 });
        }
        Assert.Equal(MountOpKind.Overlay, imageApplied.Mounts[0].Kind);
    }

    [Fact]
    public async Task A_root_runner_launches_on_a_template_and_says_so_in_the_isolation()
    {
        var kernel = new FakeSyscalls(0, _ => new NativeLaunchResult(-1, null, new NativeSetupError(SetupStage.ExecPayload, ENOENT, -1, "/bin/true")))
        {
            RootTemplateError = null,
        };
        var runner = new SandboxRunner(kernel, Host(), typeof(RootTemplatesTests).Assembly.Location,
            new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));

        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(Spec.WithSharedNetwork()));

        var launched = Assert.Single(kernel.Launched);
        Assert.Equal((int)kernel.RootNamespaces[0].Namespace.DangerousGetHandle(), launched.RootNamespaceFd);
        Assert.DoesNotContain(launched.Mounts, m => m.Kind == MountOpKind.Bind);
        Assert.Equal(1, runner.RootTemplates!.Held);
    }
}
