using System.Runtime.InteropServices;
using Sandbox.Seccomp;

namespace Sandbox.Benchmarks.Cgroups;

/// <summary>
/// Loads, on the calling thread only (a runner's launcher thread), a seccomp filter under which clone3 fails with
/// ENOSYS, as under a container runtime's default profile: that runner's launcher then falls back to clone and a
/// cgroup.procs write, so both joins can be measured on the same kernel, the same hierarchy and in the same run.
/// </summary>
internal static partial class Clone3Filter
{
    private const int PrSetSeccomp = 22, SeccompModeFilter = 2;

    public static unsafe void HideOnThisThread()
    {
        byte[] program = SeccompPolicy.Create(SeccompAction.Allow).Deny("clone3", LinuxErrno.ENOSYS).Build().CompileToBytes();
        fixed (byte* instructions = program)
        {
            var header = stackalloc nint[2]; // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
            header[0] = program.Length / 8;
            header[1] = (nint)instructions;
            if (Prctl(PrSetSeccomp, SeccompModeFilter, (nint)header, 0, 0) != 0)
                throw new InvalidOperationException($"prctl(PR_SET_SECCOMP) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nint arg2, nint arg3, nint arg4, nint arg5);
}
