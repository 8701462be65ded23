using Sandbox.IntegrationTests.Support;
using static Sandbox.IntegrationTests.Images.StoreFixtures;

namespace Sandbox.IntegrationTests.Images;

/// <summary>Two processes importing the same image into one store at the same moment: both succeed, each layer exists once.</summary>
public sealed class ConcurrentImportTests
{
    [Fact(Timeout = 240_000)]
    public async Task Two_processes_importing_the_same_image_end_with_one_copy_and_no_error()
    {
        using var temp = TempDirectory.Create();
        string store = temp.Combine("store");
        string go = temp.Combine("go");
        string layout = BusyboxLayout.Layout;

        var results = await ImageImporterRuns.TogetherAsync(go,
            [store, layout, "test/busybox:one", BusyboxLayout.Tag], [store, layout, "test/busybox:two", BusyboxLayout.Tag]);

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        Assert.Equal(results[0].Output, results[1].Output);
        var opened = NewStore(temp);
        Assert.Equal(3, opened.ListLayers().Count);
        Assert.Equal(3, Directory.GetDirectories(temp.Combine("store/layers/sha256")).Length);
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Combine("store/tmp")));
        Assert.Equal(2, opened.ListImages().Count);
    }
}
