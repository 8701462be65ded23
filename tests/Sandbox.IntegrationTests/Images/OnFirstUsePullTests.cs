using Sandbox.Images;
using Sandbox.Images.Registry;
using Sandbox.Images.Store;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests.Images;

/// <summary>
/// Pulls that store the verified blobs only (<see cref="LayerUnpacking.OnFirstUse"/>, <c>sandbox pull --no-unpack</c>)
/// from a real registry: the first run unpacks, two processes unpacking at once unpack each layer once, a push needs
/// no unpacking, a commit onto such a base unpacks it.
/// </summary>
public sealed class OnFirstUsePullTests
{
    private static readonly ImagePullOptions OnFirstUse = new ImagePullOptions().WithUnpacking(LayerUnpacking.OnFirstUse);

    private static string LayersOf(string store) => Path.Combine(store, "layers", "sha256");

    [Fact(Timeout = 240_000)]
    public async Task The_CLI_pulls_without_unpacking_and_the_first_run_unpacks_the_layers()
    {
        using var registry = await LocalRegistry.StartAsync();
        registry.Push(BusyboxLayout.Layout, BusyboxLayout.Tag, "test/busybox");
        using var temp = TempDirectory.Create();
        string store = temp.Combine("store");
        string reference = $"{registry.Host}/test/busybox:{BusyboxLayout.Tag}";

        var pull = await RootlessCli.RunAsRootAsync(null, "pull", reference, "--store", store, "--no-unpack");
        Assert.True(pull.ExitCode == 0, pull.ToString());
        Assert.Equal(3, pull.StandardOutput.Split('\n').Count(l => l.EndsWith(": verified", StringComparison.Ordinal)));
        Assert.Contains("unpacked on first run", pull.StandardOutput, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateDirectories(LayersOf(store)));
        var images = await RootlessCli.RunAsRootAsync(null, "images", "--store", store);
        Assert.True(images.ExitCode == 0, images.ToString());
        Assert.Contains(images.StandardOutput.Split('\n'), l => l.StartsWith(reference + " ", StringComparison.Ordinal));

        var run = await RootlessCli.RunAsRootAsync(null, "run", "--image", reference, "--store", store, "--", "/bin/sh", "-c", "cat /home/user/file; ls /usr/share/data");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("mine\nnew\n", run.StandardOutput);
        Assert.Equal(3, Directory.EnumerateDirectories(LayersOf(store)).Count());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store, "tmp")));

        var again = await RootlessCli.RunAsRootAsync(null, "run", "--image", reference, "--store", store, "--", "/bin/sh", "-c", "exit 0");
        Assert.True(again.ExitCode == 0, again.ToString());
    }

    [Fact(Timeout = 240_000)]
    public async Task Two_processes_unpacking_the_same_pulled_image_at_once_unpack_each_layer_once()
    {
        using var registry = await LocalRegistry.StartAsync();
        registry.Push(BusyboxLayout.Layout, BusyboxLayout.Tag, "test/busybox");
        using var temp = TempDirectory.Create();
        string store = temp.Combine("store");
        var reference = ImageReference.Parse($"{registry.Host}/test/busybox:{BusyboxLayout.Tag}");
        using var client = new RegistryClient();
        var pulled = await ImageStore.Open(new ImageStoreOptions { Root = store }).PullAsync(client, reference, OnFirstUse);
        string go = temp.Combine("go");

        string[] unpack = [store, "--unpack", reference.ToString()];
        var results = await ImageImporterRuns.TogetherAsync(go, unpack, unpack);

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        var unpacked = results.SelectMany(r => r.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(pulled.Layers.Select(l => l.ToString()).Distinct().Order(StringComparer.Ordinal), unpacked.Order(StringComparer.Ordinal)); // each once, by one of them
        Assert.Equal(3, Directory.EnumerateDirectories(LayersOf(store)).Count());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store, "tmp")));
        using var lease = ImageStore.Open(new ImageStoreOptions { Root = store }).Lease(reference);
        Assert.Empty(lease.Unpacked);
    }

    [Fact(Timeout = 240_000)]
    public async Task An_image_pulled_without_unpacking_pushes_to_another_repository_with_the_same_digest_and_nothing_unpacked()
    {
        using var registry = await LocalRegistry.StartAsync();
        registry.Push(BusyboxLayout.Layout, BusyboxLayout.Tag, "test/busybox");
        using var temp = TempDirectory.Create();
        var store = ImageStore.Open(new ImageStoreOptions { Root = temp.Combine("store") });
        var reference = ImageReference.Parse($"{registry.Host}/test/busybox:{BusyboxLayout.Tag}");
        var copy = ImageReference.Parse($"{registry.Host}/test/copy:1");
        using var client = new RegistryClient();
        var pulled = await store.PullAsync(client, reference, OnFirstUse);

        var pushed = await store.PushAsync(client, reference, copy);

        Assert.Equal(pulled.ManifestDigest, pushed.ManifestDigest);
        Assert.Equal(pulled.ManifestDigest, (await client.GetManifestAsync(copy)).Digest);
        Assert.Empty(Directory.EnumerateDirectories(LayersOf(store.Root)));
        var clean = ImageStore.Open(new ImageStoreOptions { Root = temp.Combine("clean") });
        var back = await clean.PullAsync(client, copy); // eager: every diff id verified
        Assert.Equal(pulled.Layers.ToArray(), back.Layers.ToArray());
    }

    [Fact(Timeout = 240_000)]
    public async Task A_commit_onto_a_base_pulled_without_unpacking_unpacks_the_base_and_the_new_image_runs()
    {
        using var registry = await LocalRegistry.StartAsync();
        registry.Push(BusyboxLayout.Layout, BusyboxLayout.Tag, "test/busybox");
        using var temp = TempDirectory.Create();
        var store = ImageStore.Open(new ImageStoreOptions { Root = temp.Combine("store") });
        var reference = ImageReference.Parse($"{registry.Host}/test/busybox:{BusyboxLayout.Tag}");
        using var client = new RegistryClient();
        await store.PullAsync(client, reference, OnFirstUse);
        string upper = Directory.CreateDirectory(temp.Combine("upper")).FullName;
        Directory.CreateDirectory(Path.Combine(upper, "etc"));
        await File.WriteAllTextAsync(Path.Combine(upper, "etc", "committed"), "yes\n");
        var committed = ImageReference.Parse("test/committed:1");

        var image = await store.CommitAsync(upper, reference, committed);

        Assert.Equal(4, image.Layers.Length);
        Assert.Equal(4, Directory.EnumerateDirectories(LayersOf(store.Root)).Count());
        using var lease = store.Lease(committed);
        Assert.Empty(lease.Unpacked);
        var result = (await SandboxSpec.Command("/bin/cat", "/etc/committed").WithImage(lease).WithoutNamespaces(SandboxNamespaces.User).RunAsync()).EnsureSuccess();
        Assert.Equal("yes\n", result.StandardOutput.Text);
    }
}
