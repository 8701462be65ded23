using System.Diagnostics;

namespace Sandbox.Benchmarks.Oci;

/// <summary>
/// crun 1.8 refuses a hybrid cgroup layout ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2")
/// unless the cgroup2 mount at /sys/fs/cgroup/unified is out of its sight. This keeps one shell in a private mount
/// namespace where it is unmounted (<c>unshare -m sh -c 'umount /sys/fs/cgroup/unified; ...'</c>, paid once), and
/// each run asks that shell to fork and exec <c>crun run --bundle B ID</c> and report its exit status: a run costs
/// crun itself plus the shell's fork + exec, as a runc run costs runc plus Process.Start's.
/// </summary>
internal sealed class CrunInMountNamespace : IDisposable
{
    private const string Script =
        "umount /sys/fs/cgroup/unified 2>/dev/null; echo ready; " +
        "while read -r id; do \"$0\" run --bundle \"$1\" \"$id\" </dev/null >/dev/null; echo $?; done";

    private readonly Process _shell;
    private long _runs;

    public CrunInMountNamespace(string unshare, string crun, string bundle)
    {
        var info = new ProcessStartInfo(unshare) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
        foreach (string argument in new[] { "--mount", "--propagation", "private", "/bin/sh", "-c", Script, crun, bundle })
            info.ArgumentList.Add(argument);
        _shell = Process.Start(info) ?? throw new InvalidOperationException("Process.Start(unshare) returned null.");
        if (_shell.StandardOutput.ReadLine() != "ready")
            throw new InvalidOperationException("The shell for crun did not start in its own mount namespace.");
        Command = $"crun run --bundle {bundle} ID (forked by a shell started once as `unshare --mount --propagation private sh -c 'umount /sys/fs/cgroup/unified; ...'`)";
    }

    /// <summary>What each run does, for the report.</summary>
    public string Command { get; }

    /// <summary>Runs the container once and waits for crun to exit; throws unless it exited 0.</summary>
    public void RunOnce()
    {
        string id = OciBundle.ContainerId("crun", Interlocked.Increment(ref _runs));
        _shell.StandardInput.WriteLine(id);
        _shell.StandardInput.Flush();
        string? status = _shell.StandardOutput.ReadLine();
        if (status != "0")
            throw new InvalidOperationException($"crun run {id} exited with {status ?? "(the shell is gone)"}.");
    }

    public void Dispose()
    {
        _shell.StandardInput.Close();
        if (!_shell.WaitForExit(5000))
            _shell.Kill();
        _shell.Dispose();
    }
}
