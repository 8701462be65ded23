using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json.Nodes;
using Sandbox.Images;
using Sandbox.Images.Oci;
using Sandbox.Images.Store;
using Sandbox.IntegrationTests.Support;
using static Sandbox.IntegrationTests.Images.StoreFixtures;

namespace Sandbox.IntegrationTests.Images;

/// <summary>
/// What a commit holds of the sandbox's own setup — nothing — and of the program's changes to /etc — all of them; and
/// the owners a rootless commit records, round-tripped through an import into a clean store and a run. The busybox image
/// has no /etc/hosts, /etc/resolv.conf, /proc or /tmp, so every mount point of the setup is one the image lacks.
/// </summary>
public sealed class ImageCommitRuntimeFilesTests
{
    private static SandboxSpec AsRoot(ImageLease lease, string script) =>
        SandboxSpec.Command("/bin/sh", "-c", script).WithImage(lease).WithoutNamespaces(SandboxNamespaces.User).WithUser(0, 0).WithWorkingDirectory("/");

    [Fact(Timeout = 240_000)]
    public async Task A_run_that_changes_nothing_leaves_the_upper_directory_empty_and_commits_an_empty_layer()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        StoredImage committed;
        using (var lease = store.Lease(Busybox))
        using (var layer = store.CreateWritableLayer())
        {
            var run = (await AsRoot(lease, "cat /etc/hosts /etc/resolv.conf >/dev/null && ls /proc/self /tmp /dev/null >/dev/null")
                .WithWritableRoot().WithImageWritableLayer(layer).RunAsync()).EnsureSuccess();
            Assert.Empty(Directory.EnumerateFileSystemEntries(layer.UpperDirectory));
            committed = await store.CommitAsync(layer, Busybox, ImageReference.Parse("test/busybox:noop"),
                new ImageCommitOptions().WithExcludedPaths([])); // nothing left out by path: there is nothing to leave out
        }

        Assert.Equal(0, store.FindLayer(committed.Layers[^1])!.Entries);
        Assert.Empty(LayerEntries(store, committed));
    }

    [Fact(Timeout = 240_000)]
    public async Task The_CLI_commits_an_empty_layer_for_a_command_that_changes_nothing_as_root_and_rootless()
    {
        using var temp = TempDirectory.Create(TempDirectory.WritableByAll);
        var rootStore = NewStore(temp);
        await ImportBusyboxAsync(rootStore);
        string rootlessStore = temp.Combine("rootless-store");
        var import = await RootlessCli.RunAssemblyAsync(TestBinaries.ImageImporterAssemblyPath, rootlessStore, BusyboxLayout.Layout, Busybox.ToString(), BusyboxLayout.Tag);
        Assert.True(import.ExitCode == 0, import.ToString());

        var asRoot = await RootlessCli.RunAsRootAsync(null, "run", "--image", Busybox.ToString(), "--store", rootStore.Root, "--commit", "test/busybox:noop", "--", "/bin/sh", "-c", ":");
        var rootless = await RootlessCli.RunAsync("run", "--image", Busybox.ToString(), "--store", rootlessStore, "--commit", "test/busybox:noop", "--", "/bin/sh", "-c", ":");

        Assert.True(asRoot.ExitCode == 0, asRoot.ToString());
        Assert.True(rootless.ExitCode == 0, rootless.ToString());
        foreach (var store in new[] { rootStore, ImageStore.Open(new ImageStoreOptions { Root = rootlessStore }) })
        {
            var image = store.FindImage(ImageReference.Parse("test/busybox:noop"))!;
            Assert.Empty(LayerEntries(store, image));
            Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "containers")));
        }
    }

    [Fact(Timeout = 240_000)]
    public async Task The_spec_s_own_mount_targets_the_image_lacks_never_reach_the_upper_directory_and_the_image_s_directories_keep_their_attributes()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        var baseImage = await ImportBusyboxAsync(store);
        var imageHome = Status(Path.Combine(store.LayerDirectory(baseImage.Layers[0]), "home", "user"))!.Value;
        string config = temp.Combine("app.conf");
        File.WriteAllText(config, "setting=1\n");
        StoredImage committed;
        string seen;
        using (var lease = store.Lease(Busybox))
        using (var layer = store.CreateWritableLayer())
        {
            seen = (await AsRoot(lease, "stat -c '%a %u:%g %Y' /home/user && cat /etc/app.conf && echo x > /scratch/deep/file && ls /scratch/deep")
                .AddTmpfs("/scratch/deep", 1 << 20).AddTmpfs("/home/user/cache", 1 << 20).AddReadOnlyBind(config, "/etc/app.conf")
                .WithWritableRoot().WithImageWritableLayer(layer).RunAsync()).EnsureSuccess().StandardOutput.Text;
            Assert.Empty(Directory.EnumerateFileSystemEntries(layer.UpperDirectory));
            committed = await store.CommitAsync(layer, Busybox, ImageReference.Parse("test/busybox:mounts"), new ImageCommitOptions().WithExcludedPaths([]));
        }

        Assert.Equal($"{Convert.ToString(imageHome.Permissions, 8)} {imageHome.Uid}:{imageHome.Gid} {imageHome.ModificationSeconds}\nsetting=1\nfile\n", seen);
        Assert.Empty(LayerEntries(store, committed));
    }

    [Fact(Timeout = 240_000)]
    public async Task What_the_program_changes_in_etc_is_committed_and_the_sandbox_sees_the_image_s_etc()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        var baseImage = await ImportBusyboxAsync(store);
        // The top-most layer holding etc/ (the second: it deletes a file there) gives the merged directory its attributes.
        var imageEtc = baseImage.Layers.Reverse().Select(l => Status(Path.Combine(store.LayerDirectory(l), "etc"))).First(s => s is not null)!.Value;
        StoredImage committed;
        string seen;
        using (var lease = store.Lease(Busybox))
        using (var layer = store.CreateWritableLayer())
        {
            seen = (await AsRoot(lease, "stat -c '%a %u:%g %Y' /etc && echo 10.0.0.1 db >> /etc/hosts && echo made > /etc/foo")
                .WithWritableRoot().WithImageWritableLayer(layer).RunAsync()).EnsureSuccess().StandardOutput.Text;
            committed = await store.CommitAsync(layer, Busybox, ImageReference.Parse("test/busybox:etc"));
        }

        Assert.Equal($"{Convert.ToString(imageEtc.Permissions, 8)} {imageEtc.Uid}:{imageEtc.Gid} {imageEtc.ModificationSeconds}\n", seen);
        var entries = LayerEntries(store, committed);
        Assert.Equal(["etc/", "etc/foo", "etc/hosts"], entries.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(((UnixFileMode)imageEtc.Permissions, (int)imageEtc.Uid, (int)imageEtc.Gid), (entries["etc/"].Mode, entries["etc/"].Uid, entries["etc/"].Gid));
        string layerDirectory = store.LayerDirectory(committed.Layers[^1]);
        string hosts = File.ReadAllText(Path.Combine(layerDirectory, "etc", "hosts"));
        Assert.StartsWith("127.0.0.1\tlocalhost\n", hosts, StringComparison.Ordinal);
        Assert.EndsWith("\n10.0.0.1 db\n", hosts, StringComparison.Ordinal);
        Assert.Equal("made\n", File.ReadAllText(Path.Combine(layerDirectory, "etc", "foo")));
        Assert.Null(Status(Path.Combine(layerDirectory, "etc", "resolv.conf"))); // unchanged: the setup's, not the program's

        // A run of the new image sees the program's /etc/foo, and its own /etc/hosts over the committed one.
        using (var lease = store.Lease(committed.Reference))
            Assert.Equal("made\n127.0.0.1\tlocalhost\n",
                (await AsRoot(lease, "cat /etc/foo && head -n 1 /etc/hosts").RunAsync()).EnsureSuccess().StandardOutput.Text);
    }

    [Fact(Timeout = 300_000)]
    public async Task A_rootless_commit_records_what_the_image_s_user_made_with_its_ids_and_they_round_trip_through_a_clean_store()
    {
        using var temp = TempDirectory.Create(TempDirectory.WritableByAll);
        string rootlessStore = temp.Combine("rootless-store");
        var import = await RootlessCli.RunAssemblyAsync(TestBinaries.ImageImporterAssemblyPath, rootlessStore, BusyboxLayout.Layout, Busybox.ToString(), BusyboxLayout.Tag);
        Assert.True(import.ExitCode == 0, import.ToString());

        // The image's user is 1000:1000; rootless, the host user (nobody) is mapped to it.
        var commit = await RootlessCli.RunAsync("run", "--image", Busybox.ToString(), "--store", rootlessStore, "--commit", "test/busybox:owned", "--",
            "/bin/sh", "-c", "id -u && mkdir /made && echo x > /made/file && echo more >> /usr/share/data/new && echo more >> /home/user/file");
        Assert.True(commit.ExitCode == 0, commit.ToString());
        Assert.Equal("1000\n", commit.StandardOutput);

        var store = ImageStore.Open(new ImageStoreOptions { Root = rootlessStore });
        var image = store.FindImage(ImageReference.Parse("test/busybox:owned"))!;
        var entries = LayerEntries(store, image);
        Assert.Equal(["home/", "home/user/", "home/user/file", "made/", "made/file", "usr/", "usr/share/", "usr/share/data/", "usr/share/data/new"],
            entries.Keys.Order(StringComparer.Ordinal).ToArray());
        // What the program made: the ids it ran as. The image's files it changed (copied up): the owners the image's layer gave them.
        foreach (var (path, owner) in new[] { ("made/", 1000), ("made/file", 1000), ("home/", 0), ("home/user/", 1000), ("home/user/file", 1000), ("usr/", 0), ("usr/share/data/new", 0) })
            Assert.Equal((path, owner, owner), (path, entries[path].Uid, entries[path].Gid));
        Assert.All(entries.Values, e => Assert.DoesNotContain(e is PaxTarEntry pax ? pax.ExtendedAttributes.Keys : [], k => k.Contains("sandbox.owner", StringComparison.Ordinal)));

        // Into a clean root store, and run there: the ids the sandbox saw.
        string layout = ExportLayout(store, image, temp.Combine("layout"), "owned");
        using var rootTemp = TempDirectory.Create();
        var rootStore = NewStore(rootTemp);
        using (var source = ImageSource.Open(layout))
            await rootStore.ImportAsync(source, ImageReference.Parse("test/busybox:owned"), "owned");
        using (var lease = rootStore.Lease(ImageReference.Parse("test/busybox:owned")))
        {
            Assert.Equal("1000:1000 1000:1000 0:0 1000:1000\n", (await AsRoot(lease, "echo $(stat -c %u:%g /made /made/file /usr/share/data/new /home/user)").RunAsync())
                .EnsureSuccess().StandardOutput.Text);
            // Its home is its own again (0700): the image's user, not root without capabilities, reads it.
            Assert.Equal("1000:1000 1000:1000\n", (await SandboxSpec.Command("/bin/sh", "-c", "echo $(id -u):$(id -g) $(stat -c %u:%g /home/user/file)")
                .WithImage(lease).WithoutNamespaces(SandboxNamespaces.User).RunAsync()).EnsureSuccess().StandardOutput.Text);
        }

        // And into a clean rootless store: the image's user sees its files as its own again.
        string cleanRootless = temp.Combine("clean-rootless-store");
        var reimport = await RootlessCli.RunAssemblyAsync(TestBinaries.ImageImporterAssemblyPath, cleanRootless, layout, "test/busybox:owned", "owned");
        Assert.True(reimport.ExitCode == 0, reimport.ToString());
        var look = await RootlessCli.RunAsync("run", "--image", "test/busybox:owned", "--store", cleanRootless, "--", "/bin/sh", "-c", "stat -c %u:%g /made/file");
        Assert.True(look.ExitCode == 0, look.ToString());
        Assert.Equal("1000:1000\n", look.StandardOutput);
    }

    [Fact(Timeout = 240_000)]
    public async Task A_runtime_file_a_run_changed_stays_changed_through_later_runs_on_the_same_layer()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        StoredImage committed;
        string second;
        using (var lease = store.Lease(Busybox))
        using (var layer = store.CreateWritableLayer())
        {
            (await AsRoot(lease, "echo 10.0.0.2 cache >> /etc/hosts").WithWritableRoot().WithImageWritableLayer(layer).RunAsync()).EnsureSuccess();
            second = (await AsRoot(lease, "tail -n 1 /etc/hosts").WithWritableRoot().WithImageWritableLayer(layer).WithHostname("other").RunAsync())
                .EnsureSuccess().StandardOutput.Text;
            committed = await store.CommitAsync(layer, Busybox, ImageReference.Parse("test/busybox:hosts"));
        }

        Assert.Equal("10.0.0.2 cache\n", second);
        Assert.Equal(["etc/hosts"], LayerEntries(store, committed).Keys.ToArray());
    }

    [Fact(Timeout = 240_000)]
    public async Task A_rootless_run_as_root_inside_commits_what_it_made_as_root()
    {
        using var temp = TempDirectory.Create(TempDirectory.WritableByAll);
        string rootlessStore = temp.Combine("rootless-store");
        var import = await RootlessCli.RunAssemblyAsync(TestBinaries.ImageImporterAssemblyPath, rootlessStore, BusyboxLayout.Layout, Busybox.ToString(), BusyboxLayout.Tag);
        Assert.True(import.ExitCode == 0, import.ToString());

        var commit = await RootlessCli.RunAsync("run", "--image", Busybox.ToString(), "--store", rootlessStore, "--user", "0", "--commit", "test/busybox:root-made", "--",
            "/bin/sh", "-c", "echo x > /root-made");

        Assert.True(commit.ExitCode == 0, commit.ToString());
        var store = ImageStore.Open(new ImageStoreOptions { Root = rootlessStore });
        var entry = Assert.Single(LayerEntries(store, store.FindImage(ImageReference.Parse("test/busybox:root-made"))!)).Value;
        Assert.Equal(("root-made", 0, 0), (entry.Name, entry.Uid, entry.Gid));
    }

    /// <summary>The committed layer's tar entries by name, read from its blob.</summary>
    private static Dictionary<string, TarEntry> LayerEntries(ImageStore store, StoredImage image)
    {
        var stored = store.FindLayer(image.Layers[^1])!;
        var entries = new Dictionary<string, TarEntry>(StringComparer.Ordinal);
        using var gzip = new GZipStream(File.OpenRead(Path.Combine(store.Root, "blobs", "sha256", stored.SourceDigest.Encoded)), CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        while (reader.GetNextEntry() is { } entry)
            entries[entry.Name] = entry;
        return entries;
    }

    /// <summary>An OCI layout at <paramref name="directory"/> holding <paramref name="image"/> (from the store's kept blobs) as <paramref name="name"/>.</summary>
    private static string ExportLayout(ImageStore store, StoredImage image, string directory, string name)
    {
        string blobs = Path.Combine(directory, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        foreach (var blob in Directory.EnumerateFiles(Path.Combine(store.Root, "blobs", "sha256")))
            File.Copy(blob, Path.Combine(blobs, Path.GetFileName(blob)));
        byte[] manifest = File.ReadAllBytes(Path.Combine(blobs, image.ManifestDigest.Encoded));
        string mediaType = JsonNode.Parse(manifest)!["mediaType"]?.GetValue<string>() ?? MediaTypes.OciManifest;
        File.WriteAllText(Path.Combine(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        File.WriteAllText(Path.Combine(directory, "index.json"), new JsonObject
        {
            ["schemaVersion"] = 2,
            ["manifests"] = new JsonArray(new JsonObject
            {
                ["mediaType"] = mediaType,
                ["digest"] = image.ManifestDigest.ToString(),
                ["size"] = manifest.Length,
                ["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = name },
            }),
        }.ToJsonString());
        Run("chmod", "-R", "a+rX", directory); // the rootless importer reads it as nobody
        return directory;
    }

    private static void Run(string program, params string[] arguments) => BusyboxLayout.Run(program, arguments);
}
