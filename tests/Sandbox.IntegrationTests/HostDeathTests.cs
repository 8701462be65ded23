using System.Diagnostics;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

/// <summary>A sandbox lives no longer than the host process that started it, however the host ends.</summary>
public sealed class HostDeathTests
{
    /// <summary>Without a cgroup the child is cloned from inside the root template's namespace (by a spawner, with CLONE_PARENT); with limits the cgroup is fresh and joined by path, so the child copies the template instead.</summary>
    [Theory(Timeout = 120_000)]
    [InlineData("--no-cgroup")]
    [InlineData("--memory=64m")]
    public async Task Killing_the_host_with_SIGKILL_kills_its_sandbox(string option)
    {
        string marker = HostProcesses.NewMarker();
        var start = new ProcessStartInfo(RootlessCli.Dotnet) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        // The CLI as a host of its own (root: the default root from a template, in its namespace); sh's $0 is the marker.
        foreach (string argument in (string[])[TestBinaries.CliAssemblyPath, "run", option, "--", "/bin/sh", "-c", "sleep 60; :", marker])
            start.ArgumentList.Add(argument);
        using var host = Process.Start(start)!;
        try
        {
            // init and sh carry the marker.
            var pids = await HostProcesses.WaitForMarkerAsync(marker, 2, TimeSpan.FromSeconds(30));

            host.Kill(); // SIGKILL: no clean-up code of the host runs
            await host.WaitForExitAsync();

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (pids.Any(HostProcesses.Exists) && DateTime.UtcNow < deadline)
                await Task.Delay(20);
            HostProcesses.AssertAllGone(pids, marker);
        }
        finally
        {
            if (!host.HasExited) host.Kill();
        }
    }
}
