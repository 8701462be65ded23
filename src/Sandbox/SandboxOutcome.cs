namespace Sandbox;

/// <summary>How a sandboxed run ended: a result, never an exception.</summary>
public enum SandboxOutcome
{
    /// <summary>The program exited with status 0.</summary>
    Ok,
    /// <summary>The program exited with a non-zero status (see <see cref="SandboxResult.ExitCode"/>).</summary>
    NonZeroExit,
    /// <summary>The program was killed by a signal (see <see cref="SandboxResult.Signal"/>).</summary>
    Signaled,
    /// <summary>The wall-clock limit passed and the whole sandbox was killed.</summary>
    TimedOut,
    /// <summary>The CPU-time limit (all threads of all processes) was reached and the whole sandbox was killed.</summary>
    CpuTimeLimitExceeded,
    /// <summary>The kernel's OOM killer killed a process of the sandbox at its memory limit.</summary>
    MemoryLimitExceeded,
    /// <summary>The program wrote more than the output limit to a stream and the whole sandbox was killed (<see cref="SandboxSpec.KillOnOutputLimit"/>).</summary>
    OutputLimitExceeded,
    /// <summary>The seccomp filter killed the program (SIGSYS) for a system call its policy forbids (see <see cref="SandboxResult.SeccompViolation"/>).</summary>
    SeccompViolation,
}
