using System.ComponentModel;
using System.Diagnostics;
using Sandbox.Interop;

namespace Sandbox.Cgroups;

/// <summary>
/// The real <see cref="IProcessKiller"/>: <see cref="Kill"/> through System.Diagnostics.Process (kill(2) with SIGKILL),
/// for frozen tasks, which cannot exit, so their pids cannot be reused between listing and killing;
/// <see cref="KillMembers"/> through pidfds for tasks that are not frozen.
/// </summary>
internal sealed class ProcessKiller : IProcessKiller
{
    private const int SigKill = 9;
    private const int Esrch = 3;

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
            throw Failed(pid, e.NativeErrorCode, e);
        }
    }

    public void KillMembers(IReadOnlyList<int> pids, Func<IReadOnlyList<int>> members)
    {
        var pinned = new List<(int Pid, PidfdHandle Handle)>(pids.Count);
        try
        {
            foreach (int pid in pids)
            {
                if (PidfdCalls.TryOpen(pid, out int error) is { } handle)
                {
                    pinned.Add((pid, handle));
                }
                else if (error != Esrch)
                {
                    throw Failed(pid, error, null);
                }
            }
            var listed = members().ToHashSet();
            foreach ((int pid, PidfdHandle handle) in pinned.Where(p => listed.Contains(p.Pid)))
            {
                try
                {
                    // A pinned process that has exited meanwhile is not an error (SendSignal ignores ESRCH).
                    LinuxSyscalls.Instance.SendSignal(handle, SigKill);
                }
                catch (SandboxException e)
                {
                    throw Failed(pid, 0, e);
                }
            }
        }
        finally
        {
            foreach ((_, PidfdHandle handle) in pinned)
            {
                handle.Dispose();
            }
        }
    }

    private static CgroupException Failed(int pid, int errno, Exception? inner) => new(
        "kill a sandbox process", $"pid {pid}", errno,
        "The host must be allowed to signal the sandbox's processes (same user, or CAP_KILL).", inner);
}
