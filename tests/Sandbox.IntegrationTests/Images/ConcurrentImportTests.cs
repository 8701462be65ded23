using System.Diagnostics;
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
        string importer = Path.Combine(AppContext.BaseDirectory, "Sandbox.ImageImporter.dll");

        var first = Start(importer, store, layout, go, "test/busybox:one");
        var second = Start(importer, store, layout, go, "test/busybox:two");
        await Task.Delay(500); // both are up and spinning on the go file
        await File.WriteAllTextAsync(go, "");
        var results = await Task.WhenAll(Finish(first), Finish(second));

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        Assert.Equal(results[0].Output, results[1].Output);
        var opened = NewStore(temp);
        Assert.Equal(3, opened.ListLayers().Count);
        Assert.Equal(3, Directory.GetDirectories(temp.Combine("store/layers/sha256")).Length);
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Combine("store/tmp")));
        Assert.Equal(2, opened.ListImages().Count);
    }

    private static Process Start(string importer, string store, string layout, string go, string name)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { importer, store, layout, name, BusyboxLayout.Tag, "--wait-for", go })
            start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    private sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}: {Error}";
    }

    private static async Task<Result> Finish(Process process)
    {
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
            return new Result(process.ExitCode, await output, await error);
        }
    }
}
