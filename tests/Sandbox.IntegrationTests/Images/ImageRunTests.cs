using Sandbox.Images.Store;
using Sandbox.IntegrationTests.Support;
using static Sandbox.IntegrationTests.Images.StoreFixtures;

namespace Sandbox.IntegrationTests.Images;

/// <summary>Sandboxes run on the busybox image's root: an overlay of the store's layers under a throw-away upper layer.</summary>
public sealed class ImageRunTests
{
    private static SandboxSpec Shell(ImageLease lease, string script) =>
        SandboxSpec.Command("/bin/sh", "-c", script).WithImage(lease).WithoutNamespaces(SandboxNamespaces.User);

    [Fact(Timeout = 180_000)]
    public async Task The_image_root_shows_every_layer_honours_whiteouts_and_opaque_directories_and_applies_the_config()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        using var lease = store.Lease(Busybox);

        var result = (await Shell(lease, """
            [ -e /etc/remove-me ] && echo remove-me-visible
            echo "data: $(ls /usr/share/data | tr '\n' ' ')"
            echo "shadow: $(cat /etc/shadow 2>&1)"
            echo "pwd: $(pwd) foo: $FOO id: $(id -u):$(id -g)"
            echo "mine: $(cat /home/user/file)"
            echo "root: $(grep ' / ' /proc/self/mounts | cut -d' ' -f3,4 | cut -d, -f1)"
            """).RunAsync()).EnsureSuccess();

        string output = result.StandardOutput.Text;
        Assert.DoesNotContain("remove-me-visible", output, StringComparison.Ordinal);
        Assert.Contains("data: new \n", output, StringComparison.Ordinal);
        Assert.Contains("shadow: cat: can't open '/etc/shadow': Permission denied", output, StringComparison.Ordinal);
        Assert.Contains("pwd: /home/user foo: bar id: 1000:1000", output, StringComparison.Ordinal);
        Assert.Contains("mine: mine", output, StringComparison.Ordinal);
        Assert.Contains("root: overlay ro", output, StringComparison.Ordinal);
        Assert.Contains(result.Isolation.Mounts, m => m.StartsWith("/ overlay of 3 layer(s)", StringComparison.Ordinal));
    }

    [Fact(Timeout = 180_000)]
    public async Task The_image_command_runs_when_the_spec_names_no_program()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        using var lease = store.Lease(Busybox);

        var result = (await SandboxSpec.FromImage(lease).WithoutNamespaces(SandboxNamespaces.User).RunAsync()).EnsureSuccess();

        Assert.Equal("hi\n", result.StandardOutput.Text);
    }

    [Fact(Timeout = 180_000)]
    public async Task Writes_to_a_writable_image_root_stay_in_their_sandbox_and_never_reach_the_store()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        using var lease = store.Lease(Busybox);
        var before = Snapshot(lease);

        var writer = Shell(lease, """
            echo one > /written && rm /etc/shadow && echo changed > /usr/share/data/new && mkdir /newdir
            sleep 1; echo "mine: $(cat /written)"
            """).WithUser(0, 0).WithWorkingDirectory("/").WithWritableRoot();
        var other = Shell(lease, """
            echo two > /written; sleep 1; echo "mine: $(cat /written)"
            """).WithUser(0, 0).WithWorkingDirectory("/").WithWritableRoot();
        var results = await Task.WhenAll(writer.RunAsync(), other.RunAsync());
        var later = (await Shell(lease, """
            ls / | tr '\n' ' '; echo; cat /usr/share/data/new; ls /etc/shadow
            """).WithUser(0, 0).WithWorkingDirectory("/").RunAsync()).EnsureSuccess();

        Assert.Equal("mine: one\n", results[0].EnsureSuccess().StandardOutput.Text);
        Assert.Equal("mine: two\n", results[1].EnsureSuccess().StandardOutput.Text);
        Assert.DoesNotContain("written", later.StandardOutput.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("newdir", later.StandardOutput.Text, StringComparison.Ordinal);
        Assert.Contains("new\n/etc/shadow", later.StandardOutput.Text, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(lease));
    }

    [Fact(Timeout = 180_000)]
    public async Task A_read_only_image_root_refuses_writes()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        using var lease = store.Lease(Busybox);

        var result = await Shell(lease, "echo x > /written").WithUser(0, 0).WithWorkingDirectory("/").RunAsync();

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Read-only file system", result.StandardError.Text, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_missing_layer_directory_is_a_setup_failure_at_the_overlay_stage()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        using var lease = store.Lease(Busybox);
        var image = SandboxImage.From(lease);
        string missing = temp.Combine("no-such-layer");
        var broken = image with { LowerDirectories = [missing, .. image.LowerDirectories] };

        var error = await Assert.ThrowsAsync<SandboxSetupException>(() => SandboxSpec.Command("/bin/true").WithImage(broken).WithoutNamespaces(SandboxNamespaces.User).RunAsync());

        Assert.Equal(Sandbox.Launch.SetupStage.Overlay, error.Stage);
        Assert.Equal(2, error.Errno);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task The_CLI_runs_a_command_and_the_image_s_own_command_on_an_imported_image()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);

        var command = await RootlessCli.RunAsRootAsync(null, "run", "--image", Busybox.ToString(), "--store", store.Root, "-e", "EXTRA=1",
            "--", "/bin/sh", "-c", "echo \"$FOO $EXTRA $(pwd) $(id -u)\"; ls /usr/share/data");
        var own = await RootlessCli.RunAsRootAsync(null, "run", "--image", Busybox.ToString(), "--store", store.Root);
        var missing = await RootlessCli.RunAsRootAsync(null, "run", "--image", "test/none:latest", "--store", store.Root, "--", "/bin/true");

        Assert.True(command.ExitCode == 0, command.ToString());
        Assert.Equal("bar 1 /home/user 1000\nnew\n", command.StandardOutput);
        Assert.True(own.ExitCode == 0, own.ToString());
        Assert.Equal("hi\n", own.StandardOutput);
        Assert.Equal(125, missing.ExitCode);
        Assert.Contains("test/none", missing.StandardError, StringComparison.Ordinal);
    }

    [Fact(Timeout = 240_000)]
    public async Task Nobody_runs_the_image_of_its_own_store_through_the_CLI_in_a_user_namespace()
    {
        using var temp = TempDirectory.Create(TempDirectory.WritableByAll);
        string store = temp.Combine("store");
        var import = await RootlessCli.RunAssemblyAsync(TestBinaries.ImageImporterAssemblyPath, store, BusyboxLayout.Layout, Busybox.ToString(), BusyboxLayout.Tag);
        Assert.True(import.ExitCode == 0, import.ToString());

        var first = await RootlessCli.RunAsync("run", "--image", Busybox.ToString(), "--store", store, "--writable-root", "--",
            "/bin/sh", "-c", "[ -e /etc/remove-me ] && echo remove-me-visible; echo \"$(ls /usr/share/data) $(cat /home/user/file) $(id -u)\"; echo x > /written && cat /written");
        var second = await RootlessCli.RunAsync("run", "--image", Busybox.ToString(), "--store", store, "--", "/bin/ls", "/");

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal("new mine 1000\nx\n", first.StandardOutput);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("bin", second.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("written", second.StandardOutput, StringComparison.Ordinal);
    }

    private static string Snapshot(ImageLease lease) =>
        BusyboxLayout.Run("sh", "-c", string.Join(';', lease.Layers.Select(l => $"find '{l.Directory}' -printf '%P %s %m %T@\\n' | sort")));
}
