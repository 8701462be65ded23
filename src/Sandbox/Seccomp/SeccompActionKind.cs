namespace Sandbox.Seccomp;

/// <summary>What a seccomp filter does with a syscall (the SECCOMP_RET_* actions).</summary>
public enum SeccompActionKind
{
    /// <summary>The syscall runs (SECCOMP_RET_ALLOW).</summary>
    Allow,

    /// <summary>The syscall does not run and returns -1 with errno set to the action's data (SECCOMP_RET_ERRNO).</summary>
    Errno,

    /// <summary>The whole process is killed with SIGSYS, as if by an uncaught signal (SECCOMP_RET_KILL_PROCESS).</summary>
    KillProcess,

    /// <summary>The calling thread is killed with SIGSYS (SECCOMP_RET_KILL_THREAD).</summary>
    KillThread,

    /// <summary>The thread receives SIGSYS it can handle (SECCOMP_RET_TRAP).</summary>
    Trap,

    /// <summary>The syscall runs and is logged (SECCOMP_RET_LOG).</summary>
    Log,

    /// <summary>A supervisor holding the filter's notification fd decides (SECCOMP_RET_USER_NOTIF).</summary>
    UserNotify,

    /// <summary>A ptrace tracer is notified, with the action's data (SECCOMP_RET_TRACE); without a tracer the syscall fails with ENOSYS.</summary>
    Trace,
}
