using System.Runtime.InteropServices;
using Sandbox.Seccomp;

namespace Sandbox.IntegrationTests.Limits.V2;

/// <summary>
/// A seccomp filter for one thread (a runner's launcher thread) that makes clone3 fail with a chosen errno, as a
/// container runtime's default profile does (ENOSYS) or an older kernel would (E2BIG, EINVAL for CLONE_INTO_CGROUP):
/// the real kernel's way of showing the launcher a clone3 it cannot use. Filters apply to the thread that loads them
/// (and what it clones), not to the rest of the process.
/// </summary>
internal static partial class LauncherThreadFilter
{
    private const int PrSetSeccomp = 22, SeccompModeFilter = 2;

    /// <summary>An action that loads, on the thread that runs it, a filter allowing everything but clone3 (which fails with <paramref name="errno"/>).</summary>
    public static Action HidingClone3(int errno) => () => Load(SeccompPolicy.Create(SeccompAction.Allow).Deny("clone3", errno).Build().CompileToBytes());

    private static unsafe void Load(byte[] program)
    {
        fixed (byte* instructions = program)
        {
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: 8 bytes per instruction.
            var header = stackalloc nint[2];
            header[0] = program.Length / 8;
            header[1] = (nint)instructions;
            // Root needs no no_new_privs for this (CAP_SYS_ADMIN); the kernel copies the program.
            if (Prctl(PrSetSeccomp, SeccompModeFilter, (nint)header, 0, 0) != 0)
                throw new InvalidOperationException($"prctl(PR_SET_SECCOMP) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nint arg2, nint arg3, nint arg4, nint arg5);
}
