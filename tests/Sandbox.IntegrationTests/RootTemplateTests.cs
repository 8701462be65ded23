using Sandbox.Interop;
using Sandbox.IntegrationTests.Support;
using Sandbox.Launch;
using Sandbox.RootFs;
using Tmds.Linux;

namespace Sandbox.IntegrationTests;

/// <summary>
/// Root templates on the real kernel (root hosts): a default run starts from one, sealed read-only down to its superblocks;
/// sandboxes on one template keep their writable mounts apart; a bind source replaced on the host is seen by the next run.
/// </summary>
public sealed class RootTemplateTests : IDisposable
{
    private readonly List<SandboxRunner> _runners = [];

    public void Dispose()
    {
        foreach (var runner in _runners)
        {
            runner.NetworkNamespaces?.Dispose();
            runner.SandboxCgroups.Dispose();
            runner.RootTemplates?.Dispose();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_default_run_starts_from_a_template_whose_root_and_dev_are_read_only_file_systems()
    {
        var result = (await SandboxSpec.Command("/bin/cat", "/proc/self/mountinfo").RunAsync()).EnsureSuccess();

        Assert.True(result.Isolation.RootFromTemplate, SandboxRunner.Shared.RootTemplates?.Unavailable);
        // mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT MOUNT-OPTIONS ... - TYPE SOURCE SUPER-OPTIONS"
        var lines = result.StandardOutput.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToList();
        string SuperOptions(string mountPoint) => lines.Last(f => f[4] == mountPoint)[^1];
        string MountOptions(string mountPoint) => lines.Last(f => f[4] == mountPoint)[5];
        Assert.StartsWith("ro,", SuperOptions("/"));
        Assert.StartsWith("ro,", SuperOptions("/dev"));
        Assert.StartsWith("ro,", MountOptions("/"));
        Assert.StartsWith("ro,", MountOptions("/dev"));
        Assert.StartsWith("rw,", SuperOptions("/tmp"));
        Assert.StartsWith("rw,", SuperOptions("/dev/shm"));
    }

    [Fact]
    public void A_copy_of_a_template_cannot_be_written_even_with_its_read_only_mount_flag_cleared()
    {
        using var temp = TempDirectory.Create();
        var plan = new LaunchPlan
        {
            Flags = PlanFlags.NewRoot | PlanFlags.RootReadOnly,
            RootStaging = temp.Path,
            RootOptions = "size=1m,mode=0755",
            Arguments = ["root-template"],
            Mounts = [new MountOp(MountOpKind.MakeDirectory, "/etc", Mode: 0x1ed), new MountOp(MountOpKind.WriteFile, "/etc/hosts", Data: "127.0.0.1 localhost\n", Mode: 0x1a4)],
        };
        using var tree = LinuxSyscalls.Instance.TryBuildRootTemplate(PlanWriter.Write(plan), out var error)
            ?? throw new InvalidOperationException($"The template was refused: {error}");
        using var copy = LinuxSyscalls.Instance.CloneTree(tree);

        // What a process with every capability over its own copy could do: clear the mount's read-only flag.
        long cleared = ClearReadOnly(copy);

        string inside = $"/proc/self/fd/{copy.DangerousGetHandle()}";
        Assert.Equal(0, cleared);
        Assert.Equal("127.0.0.1 localhost\n", File.ReadAllText(inside + "/etc/hosts"));
        var write = Assert.ThrowsAny<IOException>(() => File.WriteAllText(inside + "/etc/new-file", "x"));
        Assert.Contains("Read-only file system", write.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task Sandboxes_on_one_template_each_write_their_own_tmp_and_dev_shm()
    {
        var runner = NewRunner();
        var spec = (string name) => SandboxSpec.Command("/bin/sh", "-c", $"echo {name} > /tmp/{name} && echo {name} > /dev/shm/{name} && sleep 0.3 && ls /tmp /dev/shm");

        var results = await Task.WhenAll(runner.RunAsync(spec("one")), runner.RunAsync(spec("two")));

        Assert.Equal("/dev/shm:\none\n/tmp:\none\n", Sorted(results[0].EnsureSuccess().StandardOutput.Text));
        Assert.Equal("/dev/shm:\ntwo\n/tmp:\ntwo\n", Sorted(results[1].EnsureSuccess().StandardOutput.Text));
        Assert.All(results, r => Assert.True(r.Isolation.RootFromTemplate));
        Assert.Equal(1, runner.RootTemplates!.Builds);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_bound_file_replaced_on_the_host_is_what_the_next_run_sees()
    {
        var runner = NewRunner();
        using var temp = TempDirectory.Create();
        string file = temp.Combine("config");
        await File.WriteAllTextAsync(file, "one\n");
        var spec = SandboxSpec.Command("/bin/cat", "/config").AddReadOnlyBind(file, "/config");

        var first = (await runner.RunAsync(spec)).EnsureSuccess();
        var again = (await runner.RunAsync(spec)).EnsureSuccess();
        // A new file renamed over the old one, as editors and ldconfig write: the path names another inode.
        await File.WriteAllTextAsync(file + ".new", "two\n");
        File.Move(file + ".new", file, overwrite: true);
        var replaced = (await runner.RunAsync(spec)).EnsureSuccess();

        Assert.Equal("one\n", first.StandardOutput.Text);
        Assert.Equal("one\n", again.StandardOutput.Text);
        Assert.Equal("two\n", replaced.StandardOutput.Text);
        Assert.Equal(2, runner.RootTemplates!.Builds);
        Assert.Equal(1, runner.RootTemplates.Held); // the old one pinned a file that is gone: closed
    }

    [Fact(Timeout = 60_000)]
    public async Task A_run_born_in_the_templates_namespace_has_exactly_its_own_mounts_and_sees_only_its_own_processes()
    {
        // No cgroup: nothing the child does names a host path, so it is cloned from inside the template's namespace.
        var result = (await SandboxSpec.Command("/bin/sh", "-c", "cat /proc/self/mountinfo; echo --; ls /proc").WithoutOwnCgroup().RunAsync()).EnsureSuccess();

        var parts = result.StandardOutput.Text.Split("--\n");
        var mountPoints = parts[0].Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[4]).ToHashSet(StringComparer.Ordinal);
        var expected = new HashSet<string>(["/", "/usr", "/etc/ld.so.cache", "/dev", "/proc", "/dev/pts", "/dev/shm", "/tmp"], StringComparer.Ordinal);
        foreach (string node in RootFsPlanner.DeviceNodes)
            if (File.Exists("/dev/" + node)) expected.Add("/dev/" + node);
        Assert.Equal(expected.Order(StringComparer.Ordinal), mountPoints.Order(StringComparer.Ordinal));
        var pids = parts[1].Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(e => e.All(char.IsAsciiDigit)).Select(int.Parse).ToList();
        Assert.Contains(1, pids); // the sandbox's init: its own pid namespace's /proc, not the host's nor the template's
        Assert.All(pids, pid => Assert.True(pid < 100, $"pid {pid} is not the sandbox's"));
        Assert.True(result.Isolation.RootFromTemplate);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_bind_inside_a_fresh_tmpfs_is_made_by_the_sandbox_on_its_copy_of_the_template()
    {
        var runner = NewRunner();
        using var temp = TempDirectory.Create();
        string file = temp.Combine("config");
        await File.WriteAllTextAsync(file, "inside tmp\n");

        var result = (await runner.RunAsync(SandboxSpec.Command("/bin/cat", "/tmp/config").AddReadOnlyBind(file, "/tmp/config"))).EnsureSuccess();

        Assert.Equal("inside tmp\n", result.StandardOutput.Text);
        Assert.True(result.Isolation.RootFromTemplate);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_writable_root_is_its_own_but_its_dev_is_a_copy_of_a_sealed_template()
    {
        var runner = NewRunner();
        var spec = SandboxSpec.Command("/bin/sh", "-c",
            "echo x > /new-file && echo root-ok; echo x > /dev/null && echo null-ok; echo x > /dev/new-file || echo dev-refused; cat /proc/self/mountinfo")
            .WithWritableRoot();

        var result = (await runner.RunAsync(spec)).EnsureSuccess();

        var lines = result.StandardOutput.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["root-ok", "null-ok", "dev-refused"], lines.Take(3));
        var dev = lines.Skip(3).Select(l => l.Split(' ')).Last(f => f[4] == "/dev");
        Assert.StartsWith("ro,", dev[5]);  // the sandbox's remount of its copy
        Assert.StartsWith("ro,", dev[^1]); // the template's sealed superblock
        Assert.True(result.Isolation.RootFromTemplate);
        Assert.Equal(1, runner.RootTemplates!.Builds);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_rootless_host_runs_on_a_template_sealed_in_a_user_namespace_of_its_own()
    {
        using var temp = TempDirectory.Create(TempDirectory.WritableByAll);
        string resultJson = temp.Combine("result.json");

        var run = await RootlessCli.RunAsync("run", "--result-json", resultJson, "--", "/bin/sh", "-c",
            "echo x > /etc/new-file || echo etc-refused; echo x > /tmp/new-file && echo tmp-ok; cat /proc/self/mountinfo");

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["etc-refused", "tmp-ok"], lines.Take(2));
        var root = lines.Skip(2).Select(l => l.Split(' ')).First(f => f[4] == "/");
        Assert.StartsWith("ro,", root[^1]); // the template's superblock, sealed where no sandbox has a capability
        Assert.Contains("\"rootFromTemplate\": true", await File.ReadAllTextAsync(resultJson));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_bind_source_still_fails_the_run_naming_the_source()
    {
        var runner = NewRunner();
        var spec = SandboxSpec.Command("/bin/true").AddReadOnlyBind("/nonexistent/sandbox-template-test", "/data");

        var thrown = await Assert.ThrowsAsync<SandboxSetupException>(() => runner.RunAsync(spec));

        Assert.Equal(SetupStage.OpenBindSource, thrown.Stage);
        Assert.Equal("/nonexistent/sandbox-template-test", thrown.Path);
        Assert.Null(runner.RootTemplates!.Unavailable);
    }

    /// <summary>mount_setattr(fd, "", AT_EMPTY_PATH, { attr_clr = MOUNT_ATTR_RDONLY }): 0 or -1.</summary>
    private static unsafe long ClearReadOnly(Microsoft.Win32.SafeHandles.SafeFileHandle mount)
    {
        var attr = stackalloc ulong[4];
        attr[1] = LinuxSyscalls.MountAttrRdonly; // attr_clr
        byte empty = 0;
        return (long)LibC.syscall(LinuxSyscalls.SysMountSetattr, (int)mount.DangerousGetHandle(), &empty, (int)LinuxSyscalls.AtEmptyPath, attr, 32);
    }

    private static string Sorted(string listing)
    {
        // "ls /tmp /dev/shm" prints its arguments in sorted order already; entries one per line when piped.
        return listing.Replace("\n\n", "\n", StringComparison.Ordinal);
    }

    private SandboxRunner NewRunner()
    {
        Assert.Equal(0u, LinuxSyscalls.Instance.EffectiveUserId);
        var runner = new SandboxRunner(LinuxSyscalls.Instance, LinuxSyscalls.Instance);
        _runners.Add(runner);
        return runner;
    }
}
