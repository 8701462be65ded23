using System.Globalization;

namespace Sandbox.IntegrationTests.Support;

/// <summary>
/// What runs on the host, seen through the host's /proc: how a test finds a sandbox's processes from
/// outside (by a marker argument in their command lines) and checks that they are gone.
/// </summary>
internal static class HostProcesses
{
    /// <summary>A unique argument to pass to a sandboxed program so that its processes can be found.</summary>
    public static string NewMarker() => "sandbox-it-marker-" + Guid.NewGuid().ToString("N");

    /// <summary>The host pids of every live process with <paramref name="marker"/> as one of its arguments.</summary>
    public static IReadOnlyList<int> WithMarker(string marker)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                continue;
            string cmdline;
            try
            {
                cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
            }
            catch (IOException)
            {
                continue; // it exited while we looked
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            if (cmdline.Split('\0').Contains(marker, StringComparer.Ordinal))
                pids.Add(pid);
        }
        return pids;
    }

    /// <summary>Waits until at least <paramref name="count"/> processes carry <paramref name="marker"/>; returns their pids.</summary>
    public static async Task<IReadOnlyList<int>> WaitForMarkerAsync(string marker, int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var pids = WithMarker(marker);
            if (pids.Count >= count) return pids;
            if (cts.IsCancellationRequested)
                throw new TimeoutException($"Only {pids.Count} of {count} processes with marker {marker} appeared within {timeout}.");
            await Task.Delay(20, CancellationToken.None);
        }
    }

    /// <summary>Whether a process (a zombie included) with host pid <paramref name="pid"/> exists.</summary>
    public static bool Exists(int pid) => Directory.Exists($"/proc/{pid}");

    /// <summary>Asserts that none of <paramref name="pids"/> exists any more and that nothing carries <paramref name="marker"/>.</summary>
    public static void AssertAllGone(IReadOnlyList<int> pids, string marker)
    {
        Assert.All(pids, pid => Assert.False(Exists(pid), $"host process {pid} of the sandbox is still there"));
        Assert.Empty(WithMarker(marker));
    }
}
