using static Tmds.Linux.LibC;

namespace Sandbox.Interop;

/// <summary>pidfd_open(2): a handle that pins one process, so a later signal cannot reach another that reuses its pid.</summary>
internal static class PidfdCalls
{
    // The same number on x86_64 and aarch64 (the unified table).
    private const int SysPidfdOpen = 434;

    /// <summary>A pidfd for <paramref name="pid"/>, or null with the errno (ESRCH: no such process).</summary>
    public static PidfdHandle? TryOpen(int pid, out int error)
    {
        int fd = (int)syscall(SysPidfdOpen, pid, 0);
        error = fd < 0 ? errno : 0;
        return fd < 0 ? null : new PidfdHandle(fd);
    }
}
