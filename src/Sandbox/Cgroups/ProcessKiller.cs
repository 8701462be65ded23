using System.ComponentModel;
using System.Diagnostics;

namespace Sandbox.Cgroups;

/// <summary>
/// The real <see cref="IProcessKiller"/>, through System.Diagnostics.Process (kill(2) with SIGKILL). Callers only pass
/// pids of frozen tasks, which cannot exit, so a pid cannot be reused between listing and killing.
/// </summary>
internal sealed class ProcessKiller : IProcessKiller
{
    /// <summary>The shared instance.</summary>
    public static ProcessKiller Instance { get; } = new();

    public void Kill(int pid)
    {
        try
        {
            using Process process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (InvalidOperationException)
        {
            // Exited between the lookup and the signal.
        }
        catch (Win32Exception e)
        {
            throw new CgroupException(
                "kill a sandbox process", $"pid {pid}", e.NativeErrorCode,
                "The host must be allowed to signal the sandbox's processes (same user, or CAP_KILL).", e);
        }
    }
}
