using Sandbox.Images;
using Sandbox.Images.Store;
using Sandbox.IntegrationTests.Support;
using static Sandbox.IntegrationTests.Images.StoreFixtures;

namespace Sandbox.IntegrationTests.Images;

/// <summary>
/// A sandbox on the busybox image writes to a writable layer on disk; committing it makes a new image in the store
/// whose root shows exactly those changes (a new file and link, a deleted lower file, a replaced lower directory),
/// while the base image stays as it was. As root through the API and the CLI, and rootless (nobody) through the CLI.
/// </summary>
public sealed class ImageCommitTests
{
    private const string Changes = """
        set -e
        echo one > /written
        ln -s written /written.link
        rm /etc/shadow
        rm -r /usr/share/data && mkdir /usr/share/data && echo fresh > /usr/share/data/only
        """;

    private const string Look = """
        echo "written: $(cat /written 2>&1)"
        echo "link: $(readlink /written.link)"
        echo "data: $(ls /usr/share/data | tr '\n' ' ')"
        echo "shadow: $(ls /etc/shadow 2>&1)"
        echo "hardlink: $(cat /etc/shadow.hardlink)"
        """;

    private const string Committed = """
        written: one
        link: written
        data: only 
        shadow: ls: /etc/shadow: No such file or directory
        hardlink: secret

        """;

    private const string Untouched = """
        written: cat: can't open '/written': No such file or directory
        link: 
        data: new 
        shadow: /etc/shadow
        hardlink: secret

        """;

    private static SandboxSpec AsRoot(ImageLease lease, string script) =>
        SandboxSpec.Command("/bin/sh", "-c", script).WithImage(lease).WithoutNamespaces(SandboxNamespaces.User).WithUser(0, 0).WithWorkingDirectory("/");

    private static async Task<string> LookAsync(ImageStore store, ImageReference reference)
    {
        using var lease = store.Lease(reference);
        return (await AsRoot(lease, Look).RunAsync()).EnsureSuccess().StandardOutput.Text;
    }

    [Fact(Timeout = 240_000)]
    public async Task A_commit_makes_an_image_with_exactly_the_sandbox_s_changes_and_leaves_the_base_alone()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        var baseImage = await ImportBusyboxAsync(store);
        var newReference = ImageReference.Parse("test/busybox:committed");
        string before = Snapshot(store, baseImage);
        StoredImage committed;
        string layerDirectory;
        using (var lease = store.Lease(Busybox))
        using (var layer = store.CreateWritableLayer())
        {
            layerDirectory = layer.Directory;
            var run = (await AsRoot(lease, Changes).WithWritableRoot().WithImageWritableLayer(layer).RunAsync()).EnsureSuccess();
            Assert.Contains(run.Isolation.Mounts, m => m.Contains($"writes to the host directory {layer.UpperDirectory}", StringComparison.Ordinal));
            Assert.True(File.Exists(Path.Combine(layer.UpperDirectory, "written")));
            committed = await store.CommitAsync(layer, Busybox, newReference);
        }

        Assert.False(Directory.Exists(layerDirectory));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "containers")));
        Assert.Equal(baseImage.Layers.ToArray(), committed.Layers[..^1].ToArray());
        Assert.Equal(baseImage.Config.DiffIds.Length + 1, committed.Config.DiffIds.Length);
        Assert.Equal(committed.Layers[^1], committed.Config.DiffIds[^1]);
        Assert.Equal("/home/user", committed.Config.Config.WorkingDir);
        Assert.Equal(Committed, await LookAsync(store, newReference));
        Assert.Equal(Untouched, await LookAsync(store, Busybox));
        Assert.Equal(before, Snapshot(store, baseImage));

        var layerRecord = store.FindLayer(committed.Layers[^1])!;
        string blob = Path.Combine(store.Root, "blobs", "sha256", layerRecord.SourceDigest.Encoded);
        Assert.True(File.Exists(blob));
        Assert.Equal(layerRecord.CompressedBytes, new FileInfo(blob).Length);
        Assert.Equal(0u, Status(Path.Combine(layerRecord.Directory, "written"))!.Value.Uid);
        store.CollectGarbage();
        Assert.True(File.Exists(blob), "garbage collection removed the blob a stored layer names");
        Assert.Equal(Committed, await LookAsync(store, newReference));
    }

    [Fact(Timeout = 240_000)]
    public async Task The_image_s_user_writes_only_where_the_image_lets_it_and_its_files_keep_its_ids_in_the_layer()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        var reference = ImageReference.Parse("test/busybox:user");
        StoredImage image;
        using (var lease = store.Lease(Busybox))
        using (var layer = store.CreateWritableLayer())
        {
            var run = (await SandboxSpec.Command("/bin/sh", "-c", "echo notes > /home/user/notes; (echo x > /refused) 2>/dev/null || echo refused; id -u")
                .WithImage(lease).WithoutNamespaces(SandboxNamespaces.User).WithWritableRoot().WithImageWritableLayer(layer).RunAsync()).EnsureSuccess();
            Assert.Equal("refused\n1000\n", run.StandardOutput.Text);
            image = await store.CommitAsync(layer, Busybox, reference);
        }

        var stored = store.FindLayer(image.Layers[^1])!;
        var entries = new Dictionary<string, System.Formats.Tar.TarEntry>();
        using (var gzip = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(store.Root, "blobs", "sha256", stored.SourceDigest.Encoded)), System.IO.Compression.CompressionMode.Decompress))
        using (var reader = new System.Formats.Tar.TarReader(gzip))
            while (reader.GetNextEntry() is { } entry)
                entries[entry.Name] = entry;
        // Only the program's writes: the setup's /etc/hosts, /etc/resolv.conf and mount points never reach the upper directory.
        Assert.Equal(["home/", "home/user/", "home/user/notes"], entries.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.Equal((1000, 1000), (entries["home/user/notes"].Uid, entries["home/user/notes"].Gid));
        Assert.Equal((1000, 1000, (UnixFileMode)0x1C0), (entries["home/user/"].Uid, entries["home/user/"].Gid, entries["home/user/"].Mode));
        Assert.Equal((0, 0), (entries["home/"].Uid, entries["home/"].Gid));
        Assert.Equal(1000u, Status(Path.Combine(stored.Directory, "home/user/notes"))!.Value.Uid);
    }

    [Fact(Timeout = 240_000)]
    public async Task Two_commits_of_one_base_are_independent_images()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        var first = ImageReference.Parse("test/busybox:first");
        var second = ImageReference.Parse("test/busybox:second");

        using (var lease = store.Lease(Busybox))
        using (var one = store.CreateWritableLayer())
        using (var two = store.CreateWritableLayer())
        {
            var runs = await Task.WhenAll(
                AsRoot(lease, "echo 1 > /only-first && rm /bin/cat").WithWritableRoot().WithImageWritableLayer(one).RunAsync(),
                AsRoot(lease, "echo 2 > /only-second && rm /bin/ls").WithWritableRoot().WithImageWritableLayer(two).RunAsync());
            Assert.All(runs, r => r.EnsureSuccess());
            await store.CommitAsync(one, Busybox, first);
            await store.CommitAsync(two, Busybox, second);
        }

        const string Probe = "for f in /only-first /only-second /bin/cat /bin/ls; do [ -e $f ] && echo $f; done; true";
        using (var lease = store.Lease(first))
            Assert.Equal("/only-first\n/bin/ls\n", (await AsRoot(lease, Probe).RunAsync()).EnsureSuccess().StandardOutput.Text);
        using (var lease = store.Lease(second))
            Assert.Equal("/only-second\n/bin/cat\n", (await AsRoot(lease, Probe).RunAsync()).EnsureSuccess().StandardOutput.Text);
        Assert.NotEqual(store.FindImage(first)!.Layers[^1], store.FindImage(second)!.Layers[^1]);
    }

    [Fact(Timeout = 240_000)]
    public async Task Committing_an_untouched_layer_gives_an_empty_layer_shared_by_every_such_commit_and_the_same_root()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        var empty = ImageReference.Parse("test/busybox:empty");
        var again = ImageReference.Parse("test/busybox:empty-again");
        StoredImage first, second;
        using (var layer = store.CreateWritableLayer())
            first = await store.CommitAsync(layer, Busybox, empty);
        using (var layer = store.CreateWritableLayer())
            second = await store.CommitAsync(layer, Busybox, again);

        var stored = store.FindLayer(first.Layers[^1])!;
        Assert.Equal(0, stored.Entries);
        Assert.Equal(first.Layers.ToArray(), second.Layers.ToArray());
        Assert.True(store.RemoveImage(empty));
        store.CollectGarbage();
        Assert.True(File.Exists(Path.Combine(store.Root, "blobs", "sha256", stored.SourceDigest.Encoded)));
        Assert.Equal(Untouched, await LookAsync(store, again));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_failed_commit_stores_nothing_and_says_why()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        var newReference = ImageReference.Parse("test/busybox:never");
        using var layer = store.CreateWritableLayer();
        File.WriteAllText(Path.Combine(layer.UpperDirectory, "file"), "x");
        var outOfRange = new ImageCommitOptions().WithLayer(new Sandbox.Images.Layers.LayerCommitOptions().WithOwners(Sandbox.Images.Layers.IdMapping.Shift(100_000, 100_000, 65536)));

        var noBase = await Assert.ThrowsAsync<ImageException>(() => store.CommitAsync(layer, ImageReference.Parse("test/none:1"), newReference));
        var unmapped = await Assert.ThrowsAsync<ImageException>(() => store.CommitAsync(layer, Busybox, newReference, outOfRange));
        var gone = await Assert.ThrowsAsync<ImageException>(() => store.CommitAsync(temp.Combine("no-such-upper"), Busybox, newReference));

        Assert.Contains("test/none", noBase.Message, StringComparison.Ordinal);
        Assert.Contains("'file' in the upper directory belongs to host uid 0", unmapped.Message, StringComparison.Ordinal);
        Assert.Contains("no-such-upper", gone.Message, StringComparison.Ordinal);
        Assert.Null(store.FindImage(newReference));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "tmp")));
        Assert.Equal(3, store.ListLayers().Count);
    }

    [Fact(Timeout = 120_000)]
    public async Task Garbage_collection_removes_writable_layers_whose_owner_is_gone_and_keeps_held_ones()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        using var held = store.CreateWritableLayer();
        string abandoned = Path.Combine(store.Root, "containers", "abandoned");
        Directory.CreateDirectory(Path.Combine(abandoned, "upper", "deep"));
        File.WriteAllText(Path.Combine(abandoned, "upper", "deep", "file"), "left by a crash");
        Directory.CreateDirectory(Path.Combine(abandoned, "work", "work"));
        new DirectoryInfo(Path.Combine(abandoned, "work", "work")).UnixFileMode = UnixFileMode.None; // as overlayfs leaves it

        var collected = store.CollectGarbage();

        Assert.Equal(1, collected.RemovedWritableLayers);
        Assert.False(Directory.Exists(abandoned));
        Assert.True(Directory.Exists(held.UpperDirectory));
        held.Dispose();
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "containers")));
    }

    [Fact(Timeout = 240_000)]
    public async Task The_CLI_commits_after_success_and_discards_after_failure_as_root()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);

        var failed = await RootlessCli.RunAsRootAsync(null, "run", "--image", Busybox.ToString(), "--store", store.Root, "--commit", "test/busybox:failed",
            "--user", "0", "--workdir", "/", "--", "/bin/sh", "-c", "echo x > /written; exit 3");
        var succeeded = await RootlessCli.RunAsRootAsync(null, "run", "--image", Busybox.ToString(), "--store", store.Root, "--commit", "test/busybox:cli",
            "--user", "0", "--workdir", "/", "--tmpfs", "/scratch", "--", "/bin/sh", "-c", Changes + "\necho lost > /scratch/file");

        Assert.Equal(3, failed.ExitCode);
        Assert.Contains("nothing committed", failed.StandardError, StringComparison.Ordinal);
        Assert.Null(store.FindImage(ImageReference.Parse("test/busybox:failed")));
        Assert.True(succeeded.ExitCode == 0, succeeded.ToString());
        var image = store.FindImage(ImageReference.Parse("test/busybox:cli"))!;
        Assert.Contains($"committed {image.Reference} {image.ManifestDigest}", succeeded.StandardError, StringComparison.Ordinal);
        string committedLayer = store.LayerDirectory(image.Layers[^1]);
        foreach (var setup in new[] { "scratch", "proc", "tmp", "etc/hosts", "etc/resolv.conf" })
            Assert.Null(Status(Path.Combine(committedLayer, setup)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "containers")));
        Assert.Equal(Committed, await LookAsync(store, image.Reference));
    }

    [Fact(Timeout = 300_000)]
    public async Task Nobody_commits_through_the_CLI_in_a_user_namespace_and_runs_the_new_image()
    {
        using var temp = TempDirectory.Create(TempDirectory.WritableByAll);
        string store = temp.Combine("store");
        var import = await RootlessCli.RunAssemblyAsync(TestBinaries.ImageImporterAssemblyPath, store, BusyboxLayout.Layout, Busybox.ToString(), BusyboxLayout.Tag);
        Assert.True(import.ExitCode == 0, import.ToString());

        var failed = await RootlessCli.RunAsync("run", "--image", Busybox.ToString(), "--store", store, "--commit", "test/busybox:failed", "--",
            "/bin/sh", "-c", "echo x > /written; false");
        var commit = await RootlessCli.RunAsync("run", "--image", Busybox.ToString(), "--store", store, "--commit", "test/busybox:rootless", "--",
            "/bin/sh", "-c", Changes + "\necho s > /locked && chmod 0 /locked && mkdir /closed && echo in > /closed/f && chmod 0 /closed");
        var look = await RootlessCli.RunAsync("run", "--image", "test/busybox:rootless", "--store", store, "--", "/bin/sh", "-c", Look);
        var original = await RootlessCli.RunAsync("run", "--image", Busybox.ToString(), "--store", store, "--", "/bin/sh", "-c", Look);

        Assert.Equal(1, failed.ExitCode);
        Assert.True(commit.ExitCode == 0, commit.ToString());
        Assert.Contains("committed docker.io/test/busybox:rootless sha256:", commit.StandardError, StringComparison.Ordinal);
        Assert.True(look.ExitCode == 0, look.ToString());
        Assert.Equal(Committed, look.StandardOutput);
        Assert.Equal(Untouched, original.StandardOutput);
        var opened = ImageStore.Open(new ImageStoreOptions { Root = store });
        Assert.Null(opened.FindImage(ImageReference.Parse("test/busybox:failed")));
        var layer = opened.FindLayer(opened.FindImage(ImageReference.Parse("test/busybox:rootless"))!.Layers[^1])!;
        Assert.Equal(Sandbox.Images.Layers.OverlayXattrNamespace.User, layer.XattrNamespace);
        Assert.Equal("y", Xattr(Path.Combine(layer.Directory, "usr/share/data"), "user.overlay.opaque"));
        Assert.Equal(RootlessCli.Nobody, Status(Path.Combine(layer.Directory, "written"))!.Value.Uid);
        Assert.Equal(0u, Status(Path.Combine(layer.Directory, "locked"))!.Value.Permissions); // read by its unprivileged owner all the same
        Assert.Equal(0u, Status(Path.Combine(layer.Directory, "closed"))!.Value.Permissions);
        Assert.Equal("in\n", File.ReadAllText(Path.Combine(layer.Directory, "closed", "f")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store, "containers")));
    }

    private static string Snapshot(ImageStore store, StoredImage image) =>
        BusyboxLayout.Run("sh", "-c", string.Join(';', image.Layers.Select(l => $"find '{store.LayerDirectory(l)}' -printf '%P %s %m %u %T@\\n' | sort")));
}
