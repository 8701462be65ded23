using System.Globalization;
using System.Text.RegularExpressions;

namespace Sandbox.IntegrationTests.Limits;

/// <summary>
/// The sandbox cgroups on this machine's cgroup v1 hierarchies, seen from outside: directories named
/// <c>sandbox-PIDNS-PID-STARTTIME-ID</c> whose PID is this test process.
/// </summary>
internal static partial class SandboxCgroupDirectories
{
    /// <summary>The hierarchies a sandbox cgroup may be made in by default: where to look for one left behind.</summary>
    public static readonly string[] Hierarchies = ["memory", "pids", "cpu", "cpuacct", "freezer"];

    /// <summary>Every hierarchy a sandbox cgroup may be made in: the default ones, and cpuset and blkio for CPU sets and I/O limits.</summary>
    public static readonly string[] AllHierarchies = [.. Hierarchies, "cpuset", "blkio"];

    /// <summary>The hierarchies every sandbox cgroup joins (accounting); cpu only with a CPU quota or weight.</summary>
    public static readonly string[] AccountingHierarchies = ["cpuacct", "memory", "pids"];

    private const string Root = "/sys/fs/cgroup";

    /// <summary>Whether this machine has the v1 memory hierarchy (so peak memory is memory.max_usage_in_bytes).</summary>
    public static bool HostUsesCgroupV1 => Directory.Exists(Path.Combine(Root, "memory"));

    /// <summary>The peak-memory source a sandbox with a cgroup reports on this machine.</summary>
    public static MemorySource ExpectedMemorySource => HostUsesCgroupV1 ? MemorySource.CgroupV1MaxUsage : MemorySource.CgroupV2MemoryPeak;

    /// <summary>
    /// Every sandbox cgroup directory of this process (once the runner's clean-up of finished sandboxes is done), at most four levels beneath each v1 hierarchy's root (all of
    /// <see cref="AllHierarchies"/>), or beneath the cgroup2 root on a v2-only host.
    /// </summary>
    public static IReadOnlyList<string> OfThisProcess()
    {
        // A finished sandbox's cgroup is removed on the runner's clean-up thread, soon after its result: wait for that.
        Assert.True(SandboxRunner.Shared.Cleanup.WaitUntilIdle(TimeSpan.FromSeconds(30)), "the runner's clean-up is still busy after 30 s");
        // The cgroups the runner made ahead of time for the next sandboxes are not left behind: they are waiting. Once
        // the pool is full its maker is idle, so no cgroup is half made while the tree is walked.
        var prepared = SandboxRunner.Shared.SandboxCgroups.Prepared;
        Assert.True(prepared is null || prepared.WaitUntilFull(TimeSpan.FromSeconds(30)) || prepared.DisabledBecause is not null,
            "the runner's cgroups made ahead of time are still being made after 30 s");
        var ready = new HashSet<string>(prepared?.ReadyNames ?? [], StringComparer.Ordinal);
        var found = new List<string>();
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            MaxRecursionDepth = 4,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.None,
        };
        string pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        string[] roots = HostUsesCgroupV1 ? [.. AllHierarchies.Select(h => Path.Combine(Root, h))] : [Root];
        foreach (string root in roots)
        {
            if (!Directory.Exists(root)) continue;
            try
            {
                foreach (string directory in Directory.EnumerateDirectories(root, "sandbox-*", options))
                {
                    var name = NamePattern().Match(Path.GetFileName(directory));
                    if (name.Success && name.Groups["pid"].Value == pid)
                        found.Add(directory);
                }
            }
            catch (DirectoryNotFoundException)
            {
                // A cgroup went away while we walked the tree.
            }
        }
        // Made ready while the tree was walked (no sandbox starts meanwhile, so none was taken).
        ready.UnionWith(prepared?.ReadyNames ?? []);
        return [.. found.Where(directory => !ready.Contains(Path.GetFileName(directory)))];
    }

    [GeneratedRegex(@"^sandbox-[0-9]+-(?<pid>[0-9]+)-[0-9]+-.+$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
