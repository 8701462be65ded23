using System.Globalization;
using System.Text.RegularExpressions;
using Sandbox.Cgroups;
using Sandbox.Interop;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests.Limits.V2;

/// <summary>
/// Sandboxes whose cgroups the v2 driver makes on this machine's real cgroup2 hierarchy — on this hybrid host the empty
/// one at /sys/fs/cgroup/unified, chosen with <see cref="CgroupOptions.UnifiedOnHybrid"/> — under a parent of their own
/// (<see cref="ParentCgroup"/>), with no controller enabled: what every cgroup2 cgroup has (cpu.stat, cgroup.kill,
/// cgroup.events, clone3 into it) is all they get. Runners made here are this fixture's; it empties their pools of
/// network namespaces at the end, so no test after it counts their fds.
/// </summary>
public sealed partial class UnifiedCgroupHost : IDisposable
{
    /// <summary>The parent of the tests' sandbox cgroups, in the cgroup2 hierarchy.</summary>
    public const string ParentCgroup = "/sandbox-v2-tests";

    private readonly List<SandboxRunner> _runners = [];
    private readonly SandboxRunner? _runner;

    public UnifiedCgroupHost()
    {
        if (UnifiedCgroupProbe.MissingHierarchy is null)
            _runner = NewRunner();
    }

    /// <summary>The driver's options: the cgroup2 hierarchy even on a hybrid host, no controller, the tests' parent.</summary>
    internal static CgroupOptions Options { get; } = new() { UnifiedOnHybrid = true, V2Controllers = [], ParentCgroup = ParentCgroup };

    /// <summary>The cgroup file system every runner and driver here shares.</summary>
    internal CgroupFileSystem FileSystem { get; } = new();

    /// <summary>A runner whose sandbox cgroups are v2 cgroups on the real cgroup2 hierarchy.</summary>
    internal SandboxRunner Runner => _runner ?? throw new InvalidOperationException(UnifiedCgroupProbe.MissingHierarchy);

    /// <summary>The directory of <see cref="ParentCgroup"/>.</summary>
    public static string ParentDirectory => UnifiedCgroupProbe.MountPoint + ParentCgroup;

    /// <summary>Why a test that needs <paramref name="feature"/> cannot run here, or null.</summary>
    public static string? Missing(UnifiedCgroupFeature feature) => feature switch
    {
        UnifiedCgroupFeature.CloneIntoCgroup => UnifiedCgroupProbe.MissingCloneIntoCgroup,
        UnifiedCgroupFeature.Kill => UnifiedCgroupProbe.MissingKill,
        _ => UnifiedCgroupProbe.MissingHierarchy,
    };

    /// <summary>Another runner on the same hierarchy; <paramref name="prepareLauncherThread"/> runs first on its launcher thread.</summary>
    internal SandboxRunner NewRunner(Action? prepareLauncherThread = null)
    {
        var runner = new SandboxRunner(
            LinuxSyscalls.Instance, LinuxSyscalls.Instance,
            cgroups: new SandboxCgroups(FileSystem, LinuxSyscalls.Instance.EffectiveUserId, Options),
            prepareLauncherThread: prepareLauncherThread);
        lock (_runners) _runners.Add(runner);
        return runner;
    }

    /// <summary>The v2 driver itself, as the runner's cgroups make it.</summary>
    internal ICgroupDriver NewDriver()
    {
        var layout = CgroupLayoutDetector.Detect(FileSystem, LinuxSyscalls.Instance.EffectiveUserId, Options);
        Assert.True(layout.IsUsable, layout.Describe());
        return CgroupDriverFactory.Create(layout, FileSystem, Options);
    }

    /// <summary>Waits until every runner of this host has removed the cgroups of its finished sandboxes (its clean-up thread).</summary>
    public void WaitForCleanup()
    {
        foreach (var runner in _runners.Append(_runner).OfType<SandboxRunner>())
            Assert.True(runner.Cleanup.WaitUntilIdle(TimeSpan.FromSeconds(20)), "a runner's clean-up is still busy");
    }

    /// <summary>The sandbox cgroups of this test process under the parent.</summary>
    public static IReadOnlyList<string> CgroupsOfThisProcess()
    {
        if (!Directory.Exists(ParentDirectory)) return [];
        string pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        return [.. Directory.EnumerateDirectories(ParentDirectory, "sandbox-*")
            .Where(d => NamePattern().Match(Path.GetFileName(d)) is { Success: true } m && m.Groups["pid"].Value == pid)];
    }

    /// <summary>Host processes in a sandbox cgroup of this test process under the parent ("PID: 0::/...").</summary>
    public static IReadOnlyList<string> ProcessesInCgroupsOfThisProcess()
    {
        string prefix = "0::" + ParentCgroup + "/sandbox-";
        string ours = $"-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-";
        var found = new List<string>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out _)) continue;
            try
            {
                found.AddRange(File.ReadAllLines(Path.Combine(dir, "cgroup"))
                    .Where(line => line.StartsWith(prefix, StringComparison.Ordinal) && line.Contains(ours, StringComparison.Ordinal))
                    .Select(line => $"{Path.GetFileName(dir)}: {line}"));
            }
            catch (IOException)
            {
                // It exited while we looked.
            }
        }
        return found;
    }

    /// <summary>The v2 cgroup of a host process, from the 0:: line of its /proc/PID/cgroup.</summary>
    public static string CgroupOf(int pid) =>
        File.ReadAllLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cgroup").Single(l => l.StartsWith("0::", StringComparison.Ordinal))[3..];

    public void Dispose()
    {
        lock (_runners)
        {
            foreach (var runner in _runners)
                runner.NetworkNamespaces?.Dispose();
        }
        try
        {
            Directory.Delete(ParentDirectory); // one rmdir: refused while another test process has cgroups there
        }
        catch (IOException)
        {
        }
    }

    [GeneratedRegex(@"^sandbox-[0-9]+-(?<pid>[0-9]+)-[0-9]+-.+$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
