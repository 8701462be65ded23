using System.Diagnostics;

namespace Sandbox.IntegrationTests.Support;

/// <summary>
/// Runs several tests/Sandbox.ImageImporter processes against one store at the same moment: each is started with its
/// arguments and <c>--wait-for GO</c>, spins until the go file exists, then does its work; the results come back in order.
/// </summary>
internal static class ImageImporterRuns
{
    /// <summary>How one importer process ended.</summary>
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}: {Error}";
    }

    /// <summary>Starts one importer per argument list, lets them all go at once through <paramref name="goFile"/>, and waits for each.</summary>
    public static async Task<Result[]> TogetherAsync(string goFile, params string[][] argumentLists)
    {
        string importer = Path.Combine(AppContext.BaseDirectory, "Sandbox.ImageImporter.dll");
        var processes = argumentLists.Select(arguments => Start(importer, [.. arguments, "--wait-for", goFile])).ToList();
        await Task.Delay(500); // all are up and spinning on the go file
        await File.WriteAllTextAsync(goFile, "");
        return await Task.WhenAll(processes.Select(FinishAsync));
    }

    private static Process Start(string importer, string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(importer);
        foreach (var arg in arguments)
            start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    private static async Task<Result> FinishAsync(Process process)
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
