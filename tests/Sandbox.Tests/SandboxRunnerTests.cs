using Sandbox.Tests.Cgroups;
using Sandbox.Interop;
using Sandbox.Launch;
using Sandbox.Tests.Fakes;

namespace Sandbox.Tests;

/// <summary>The runner up to the launcher, with a fake kernel: validation first, the plan it hands over, and clean-up after a failed start.</summary>
public sealed class SandboxRunnerTests
{
    private const int ENOENT = 2;

    private static readonly string AnExistingFile = typeof(SandboxRunnerTests).Assembly.Location;

    private static readonly SandboxSpec Spec = SandboxSpec.Command("/bin/cat").AddReadOnlyBind("/srv/data", "/data");

    [Fact]
    public async Task An_invalid_spec_is_rejected_with_every_problem_before_anything_is_created()
    {
        var kernel = new FakeSyscalls(1000, _ => throw new InvalidOperationException("launched"));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));
        var spec = Spec.WithoutNamespaces(SandboxNamespaces.User).WithTmpSize(1);

        var thrown = await Assert.ThrowsAsync<SandboxValidationException>(() => runner.RunAsync(spec));

        Assert.Equal(2, thrown.Problems.Count);
        Assert.Empty(kernel.Handles);
        Assert.Empty(kernel.Launched);
    }

    [Fact]
    public async Task A_failed_launch_throws_the_setup_failure_naming_the_bind_source_and_closes_every_pipe()
    {
        var kernel = new FakeSyscalls(1000, plan => Failure(SetupStage.OpenBindSource, ENOENT, plan.Mounts.IndexOf(plan.Mounts.Single(m => m.Source == "/srv/data"))));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr().Directory("/srv/data"), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));

        var thrown = await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(Spec));

        Assert.Equal(SetupStage.OpenBindSource, thrown.Stage);
        Assert.Equal("/srv/data", thrown.Path);
        Assert.NotEmpty(kernel.Pipes);
        Assert.All(kernel.Pipes, p => Assert.True(p.Read.IsClosed && p.Write.IsClosed, "A pipe end was left open."));
    }

    [Fact]
    public async Task A_refused_clone_throws_unsupported()
    {
        var kernel = new FakeSyscalls(1000, _ => Failure(SetupStage.Clone, 1, -1));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));

        await Assert.ThrowsAsync<SandboxUnsupportedException>(() => runner.RunAsync(SandboxSpec.Command("/bin/true")));
    }

    [Fact]
    public async Task The_launcher_gets_the_child_ends_of_the_pipes_and_the_opened_init()
    {
        var kernel = new FakeSyscalls(1000, _ => Failure(SetupStage.ExecPayload, ENOENT, -1));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr().Directory("/srv/data"), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));

        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.StartAsync(Spec));

        var plan = Assert.Single(kernel.Launched);
        var (stdin, stdout, stderr, report) = (kernel.Pipes[0], kernel.Pipes[1], kernel.Pipes[2], kernel.Pipes[3]);
        Assert.Equal(Fd(stdin.Read), plan.StdinFd);
        Assert.Equal(Fd(stdout.Write), plan.StdoutFd);
        Assert.Equal(Fd(stderr.Write), plan.StderrFd);
        Assert.Equal(Fd(report.Write), plan.ReportFd);
        Assert.Equal([AnExistingFile], kernel.Executables);
        var memoryFile = Assert.Single(kernel.MemoryFiles);
        Assert.Equal(Fd(memoryFile.Handle), plan.SeccompFd);
        Assert.Equal(global::Sandbox.Seccomp.SeccompPolicy.Default.CompileToBytes(), memoryFile.Contents);
        Assert.Equal(Fd(kernel.Handles.Except(kernel.Pipes.SelectMany(p => new[] { p.Read, p.Write })).Except([memoryFile.Handle]).Single()), plan.InitFd);
    }

    [Fact]
    public async Task A_policy_is_compiled_into_one_sealed_memory_file_shared_by_every_launch_and_unconfined_has_none()
    {
        var kernel = new FakeSyscalls(1000, _ => Failure(SetupStage.ExecPayload, ENOENT, -1));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));
        var judge = SandboxSpec.Command("/bin/true").WithSeccomp(global::Sandbox.Seccomp.SeccompPolicy.Judge);

        for (int i = 0; i < 3; i++)
            await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(judge));
        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(judge.WithSeccomp(global::Sandbox.Seccomp.SeccompPolicy.Unconfined)));

        var memoryFile = Assert.Single(kernel.MemoryFiles);
        Assert.Equal(global::Sandbox.Seccomp.SeccompPolicy.Judge.CompileToBytes(), memoryFile.Contents);
        Assert.All(kernel.Launched.Take(3), plan => Assert.Equal(Fd(memoryFile.Handle), plan.SeccompFd));
        Assert.Equal(-1, kernel.Launched[3].SeccompFd);
    }

    [Fact]
    public async Task Running_without_input_gives_the_program_no_stdin_pipe()
    {
        var kernel = new FakeSyscalls(1000, _ => Failure(SetupStage.ExecPayload, ENOENT, -1));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));

        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(SandboxSpec.Command("/bin/true")));

        Assert.Equal(-1, Assert.Single(kernel.Launched).StdinFd);
        Assert.Equal(3, kernel.Pipes.Count);
    }

    [Fact]
    public async Task Inherited_streams_hand_the_hosts_own_0_1_2_to_the_program()
    {
        var kernel = new FakeSyscalls(1000, _ => Failure(SetupStage.ExecPayload, ENOENT, -1));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));

        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(SandboxSpec.Command("/bin/true").WithInheritedStandardStreams()));

        var plan = Assert.Single(kernel.Launched);
        Assert.Equal((0, 1, 2), (plan.StdinFd, plan.StdoutFd, plan.StderrFd));
        Assert.Equal(Fd(Assert.Single(kernel.Pipes).Write), plan.ReportFd);
    }

    [Fact]
    public async Task An_inherited_stdin_with_forwarded_output_hands_over_fd_0_and_pipes_stdout_and_stderr()
    {
        var kernel = new FakeSyscalls(1000, _ => Failure(SetupStage.ExecPayload, ENOENT, -1));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));
        var spec = SandboxSpec.Command("/bin/true").WithInheritedStandardInput().WithOutputForwarding(new MemoryStream(), new MemoryStream());

        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(spec));

        var plan = Assert.Single(kernel.Launched);
        var (stdout, stderr, report) = (kernel.Pipes[0], kernel.Pipes[1], kernel.Pipes[2]);
        Assert.Equal(3, kernel.Pipes.Count);
        Assert.Equal(0, plan.StdinFd);
        Assert.Equal(Fd(stdout.Write), plan.StdoutFd);
        Assert.Equal(Fd(stderr.Write), plan.StderrFd);
        Assert.Equal(Fd(report.Write), plan.ReportFd);
    }

    [Fact]
    public async Task A_root_host_launches_a_plan_that_maps_to_the_host_identity()
    {
        var kernel = new FakeSyscalls(0, _ => Failure(SetupStage.ExecPayload, ENOENT, -1));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));

        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(SandboxSpec.Command("/bin/true").WithHostIdentity(2000, 3000)));

        Assert.Equal("1000 2000 1\n", Assert.Single(kernel.Launched).UidMap);
    }

    [Fact]
    public async Task A_cancelled_start_creates_nothing()
    {
        var kernel = new FakeSyscalls(1000, _ => throw new InvalidOperationException("launched"));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync(SandboxSpec.Command("/bin/true"), new CancellationToken(canceled: true)));

        Assert.Empty(kernel.Handles);
    }

    [Fact]
    public async Task A_missing_init_executable_is_reported_with_where_it_should_be_and_leaks_no_pipe()
    {
        var kernel = new FakeSyscalls(1000, _ => throw new InvalidOperationException("launched"));
        string missing = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid(), "sandbox-init");
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), missing, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));

        var thrown = await Assert.ThrowsAsync<SandboxException>(() => runner.RunAsync(SandboxSpec.Command("/bin/true")));

        Assert.Contains(missing, thrown.Message, StringComparison.Ordinal);
        Assert.Empty(kernel.Launched);
        Assert.All(kernel.Pipes, p => Assert.True(p.Read.IsClosed && p.Write.IsClosed, "A pipe end was left open."));
    }

    [Fact]
    public async Task Root_s_image_in_a_user_namespace_launches_with_a_copy_of_each_idmapped_layer_released_when_the_start_fails()
    {
        var kernel = new FakeSyscalls(0, _ => Failure(SetupStage.Overlay, 13, 0));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0),
            idmappedLayers: new global::Sandbox.Namespaces.IdmappedLayers(kernel, idleTimeout: TimeSpan.Zero));
        var image = new SandboxImage("test/i:1", ["/store/b/diff", "/store/a/diff"], global::Sandbox.Images.Oci.ContainerConfig.Empty, UserXattr: false) { CarriesUserXattr = true };

        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(SandboxSpec.Command("/bin/true").WithImage(image)));

        var plan = Assert.Single(kernel.Launched);
        var overlay = plan.Mounts.Single(m => m.Kind == MountOpKind.Overlay);
        Assert.Equal(kernel.TreeCopies.Select(c => Fd(c.Copy)), overlay.LayerFds);
        Assert.Equal(["/store/b/diff", "/store/a/diff"], kernel.IdmappedTrees.Select(t => t.Directory));
        Assert.Equal("0 524288 65536\n", Assert.Single(kernel.UserNamespaces).UidMap);
        Assert.All(kernel.TreeCopies, c => Assert.True(c.Copy.IsClosed, "A launch copy was left open."));
        Assert.Equal(0, runner.IdmappedLayers.OpenMappings);
        Assert.All(kernel.IdmappedTrees, t => Assert.True(t.Tree.IsClosed, "An idmapped layer was left open."));
    }

    [Fact]
    public async Task Without_a_user_namespace_root_s_image_is_not_idmapped()
    {
        var kernel = new FakeSyscalls(0, _ => Failure(SetupStage.ExecPayload, ENOENT, -1));
        var runner = new SandboxRunner(kernel, FakeHostFileSystem.SplitUsr(), AnExistingFile, new global::Sandbox.Cgroups.SandboxCgroups(FakeCgroupFileSystem.WithoutCgroups(), 0));
        var image = new SandboxImage("test/i:1", ["/store/a/diff"], global::Sandbox.Images.Oci.ContainerConfig.Empty, UserXattr: false) { CarriesUserXattr = true };

        await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(SandboxSpec.Command("/bin/true").WithImage(image).WithoutNamespaces(SandboxNamespaces.User)));

        Assert.Empty(kernel.UserNamespaces);
        Assert.True(Assert.Single(kernel.Launched).Mounts.Single(m => m.Kind == MountOpKind.Overlay).LayerFds.IsDefaultOrEmpty);
    }

    private static NativeLaunchResult Failure(SetupStage stage, int errno, int opIndex) =>
        new(-1, null, new NativeSetupError(stage, errno, opIndex, "detail"));

    private static int Fd(Microsoft.Win32.SafeHandles.SafeFileHandle handle) => (int)handle.DangerousGetHandle();
}
