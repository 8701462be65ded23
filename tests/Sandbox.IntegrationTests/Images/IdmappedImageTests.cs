using Sandbox.Images.Layers;
using Sandbox.Images.Store;
using Sandbox.IntegrationTests.Support;
using Sandbox.Namespaces;
using static Sandbox.IntegrationTests.Images.StoreFixtures;

namespace Sandbox.IntegrationTests.Images;

/// <summary>
/// Root's store, default namespaces (the user namespace on): the launcher mounts root's layers idmapped through the
/// sandbox's id maps, so the image runs as it does without a user namespace, and nothing of it stays on the host.
/// </summary>
public sealed class IdmappedImageTests
{
    private static SandboxSpec Shell(ImageLease lease, string script) => SandboxSpec.Command("/bin/sh", "-c", script).WithImage(lease);

    [Fact(Timeout = 180_000)]
    public async Task Root_s_image_runs_in_a_user_namespace_as_the_image_s_user_with_whiteouts_and_opaque_directories_honoured()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        using var lease = store.Lease(Busybox);

        var result = (await Shell(lease, """
            echo "id: $(id -u):$(id -g) map:" $(cat /proc/self/uid_map)
            [ -e /etc/remove-me ] && echo remove-me-visible
            echo "data: $(ls /usr/share/data | tr '\n' ' ')"
            echo "mine: $(cat /home/user/file) $(stat -c %u:%g /home/user/file)"
            echo "busybox: $(stat -c %u:%g /bin/busybox)"
            echo "shadow: $(cat /etc/shadow 2>&1)"
            """).RunAsync()).EnsureSuccess();

        string output = result.StandardOutput.Text;
        Assert.True(result.Isolation.Namespaces.HasFlag(SandboxNamespaces.User));
        Assert.Contains("id: 1000:1000 map: 0 524288 65536", output, StringComparison.Ordinal);
        Assert.Equal(new SandboxIdentity(525288, 525288), result.Isolation.HostUser);
        Assert.DoesNotContain("remove-me-visible", output, StringComparison.Ordinal);
        Assert.Contains("data: new \n", output, StringComparison.Ordinal);
        Assert.Contains("mine: mine 1000:1000", output, StringComparison.Ordinal);
        Assert.Contains("busybox: 0:0", output, StringComparison.Ordinal);
        Assert.Contains("shadow: cat: can't open '/etc/shadow': Permission denied", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task As_root_inside_the_image_s_root_owned_files_are_root_s_and_a_write_copies_up_and_vanishes_with_the_sandbox()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        using var lease = store.Lease(Busybox);
        string lowerShadow = Path.Combine(lease.LowerDirectories[^1], "etc/shadow");

        var writer = (await Shell(lease, """
            echo "id: $(id -u):$(id -g) busybox: $(stat -c %u:%g /bin/busybox) shadow: $(stat -c %u:%g /etc/shadow)"
            echo changed >> /etc/shadow && cat /etc/shadow; echo
            echo "after: $(stat -c %u:%g /etc/shadow)"
            """).WithUser(0, 0).WithWorkingDirectory("/").WithWritableRoot().RunAsync()).EnsureSuccess();
        var later = (await Shell(lease, "cat /etc/shadow").WithUser(0, 0).WithWorkingDirectory("/").RunAsync()).EnsureSuccess();

        Assert.Contains("id: 0:0 busybox: 0:0 shadow: 0:0", writer.StandardOutput.Text, StringComparison.Ordinal);
        Assert.Contains("secretchanged\n", writer.StandardOutput.Text, StringComparison.Ordinal);
        Assert.Contains("after: 0:0", writer.StandardOutput.Text, StringComparison.Ordinal);
        Assert.Equal("secret", later.StandardOutput.Text);
        Assert.Equal("secret", File.ReadAllText(lowerShadow));
    }

    [Fact(Timeout = 180_000)]
    public async Task Two_sandboxes_of_one_image_in_user_namespaces_do_not_see_each_other_s_writes()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        using var lease = store.Lease(Busybox);

        var one = Shell(lease, "echo one > /written; sleep 1; cat /written; ls /usr/share/data")
            .WithUser(0, 0).WithWorkingDirectory("/").WithWritableRoot();
        var two = Shell(lease, "echo two > /written; rm /usr/share/data/new; sleep 1; cat /written; ls /usr/share/data")
            .WithUser(0, 0).WithWorkingDirectory("/").WithWritableRoot();
        var results = await Task.WhenAll(one.RunAsync(), two.RunAsync());

        Assert.Equal("one\nnew\n", results[0].EnsureSuccess().StandardOutput.Text);
        Assert.Equal("two\n", results[1].EnsureSuccess().StandardOutput.Text);
    }

    [Fact(Timeout = 180_000)]
    public async Task The_layer_mounts_reach_neither_the_payload_nor_outlive_the_sandbox_on_the_host()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        using var lease = store.Lease(Busybox);

        string listing;
        await using (var running = await Shell(lease, "ls /proc/self/fd; grep -c idmapped /proc/self/mountinfo; read x").StartAsync())
        {
            // The idmapped layers the host holds while the sandbox runs (and any still kept from an earlier test).
            Assert.Equal(SandboxRunner.Shared.IdmappedLayers.OpenLayers, DetachedMountFds());
            Assert.True(SandboxRunner.Shared.IdmappedLayers.OpenLayers >= 3);
            await running.StandardInput.WriteAsync("\n"u8.ToArray());
            await running.StandardInput.FlushAsync();
            var result = await running.WaitAsync();
            listing = await new StreamReader(running.StandardOutput).ReadToEndAsync();
            Assert.Equal(SandboxOutcome.Ok, result.Outcome);
        }

        // ls's own directory fd is the 3; the sandbox's mount table keeps no idmapped layer (the overlay holds private clones).
        Assert.Equal("0\n1\n2\n3\n0\n", listing);
        // Kept for the next sandbox for the idle timeout, then closed.
        var closedBy = DateTime.UtcNow + IdmappedLayers.DefaultIdleTimeout + TimeSpan.FromSeconds(10);
        while ((DetachedMountFds() > 0 || SandboxRunner.Shared.IdmappedLayers.OpenLayers > 0) && DateTime.UtcNow < closedBy)
            await Task.Delay(50);
        Assert.Equal(0, DetachedMountFds());
        Assert.Equal((0, 0), (SandboxRunner.Shared.IdmappedLayers.OpenMappings, SandboxRunner.Shared.IdmappedLayers.OpenLayers));
    }

    [Fact(Timeout = 180_000)]
    public async Task The_CLI_as_root_runs_root_s_image_in_a_user_namespace()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);

        var run = await RootlessCli.RunAsRootAsync(null, "run", "--image", Busybox.ToString(), "--store", store.Root, "--",
            "/bin/sh", "-c", "echo $(cat /proc/self/uid_map) $(id -u) $(stat -c %u /bin/busybox)");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("0 524288 65536 1000 0\n", run.StandardOutput);
    }

    [Fact(Timeout = 180_000)]
    public async Task An_image_unpacked_by_root_without_user_xattrs_is_refused_in_a_user_namespace_and_runs_without_one()
    {
        using var temp = TempDirectory.Create();
        var store = ImageStore.Open(new ImageStoreOptions
        {
            Root = temp.Combine("store"),
            Layers = LayerApplyOptions.Root.WithXattrNamespace(OverlayXattrNamespace.Trusted),
        });
        await ImportBusyboxAsync(store);
        using var lease = store.Lease(Busybox);

        var refused = await Assert.ThrowsAsync<SandboxValidationException>(() => Shell(lease, "ls /usr/share/data").RunAsync());
        var without = (await Shell(lease, "ls /usr/share/data").WithoutNamespaces(SandboxNamespaces.User).RunAsync()).EnsureSuccess();

        Assert.Contains(refused.Problems, p => p.Contains("import or pull the image again", StringComparison.Ordinal));
        Assert.Equal("new\n", without.StandardOutput.Text);
    }

    [Fact(Timeout = 180_000)]
    public async Task Removing_an_old_image_with_its_layers_and_importing_it_again_makes_it_run_in_a_user_namespace()
    {
        using var temp = TempDirectory.Create();
        var old = ImageStore.Open(new ImageStoreOptions
        {
            Root = temp.Combine("store"),
            Layers = LayerApplyOptions.Root.WithXattrNamespace(OverlayXattrNamespace.Trusted),
        });
        await ImportBusyboxAsync(old);
        Assert.True(old.RemoveImage(Busybox));
        old.CollectGarbage();

        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        using var lease = store.Lease(Busybox);
        var result = (await Shell(lease, "ls /usr/share/data").RunAsync()).EnsureSuccess();

        Assert.All(lease.Layers, l => Assert.Equal(OverlayXattrNamespace.TrustedAndUser, l.XattrNamespace));
        Assert.Equal("new\n", result.StandardOutput.Text);
    }

    /// <summary>
    /// How many of the host's open fds are detached mounts: the root of a mount (fdinfo's mnt_id) that is in no mount
    /// table of the host's namespace — what open_tree(OPEN_TREE_CLONE) returns — on the stores' file system (each test's store
    /// is under the temp directory): the idmapped layers, not the runners' root templates (tmpfs trees of their own).
    /// </summary>
    private static int DetachedMountFds()
    {
        ulong storeDevice = DeviceOf(Path.GetTempPath());
        var attached = File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[0]).ToHashSet(StringComparer.Ordinal);
        int count = 0;
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                // A mount's root (its directory maybe deleted since, with an earlier test's store), not a pipe, socket or anonymous inode.
                if (new FileInfo(fd).LinkTarget is not ("/" or "/ (deleted)")) continue;
                string? mountId = File.ReadLines($"/proc/self/fdinfo/{Path.GetFileName(fd)}")
                    .FirstOrDefault(l => l.StartsWith("mnt_id:", StringComparison.Ordinal))?["mnt_id:".Length..].Trim();
                if (mountId is not null && !attached.Contains(mountId) && DeviceOf(fd) == storeDevice) count++;
            }
            catch (IOException)
            {
                // closed meanwhile
            }
        }
        return count;
    }

    /// <summary>stat(2)'s st_dev of what <paramref name="path"/> names (following a /proc fd link to its file).</summary>
    private static unsafe ulong DeviceOf(string path)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        Tmds.Linux.stat st;
        fixed (byte* p = bytes)
            if (Tmds.Linux.LibC.stat(p, &st) != 0) throw new IOException($"stat {path} failed");
        return (ulong)st.st_dev;
    }
}
