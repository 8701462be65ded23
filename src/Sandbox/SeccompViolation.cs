namespace Sandbox;

/// <summary>
/// The system call a seccomp filter killed the program for, as far as the kernel tells: its audit log line
/// (readable by a root host; an unprivileged host usually may not read the kernel log). Null fields: not known.
/// </summary>
/// <param name="SyscallNumber">The system call's number on <paramref name="Architecture"/>.</param>
/// <param name="SyscallName">Its name, from the syscall table.</param>
/// <param name="Architecture">The architecture the call was made with.</param>
public sealed record SeccompViolation(int? SyscallNumber, string? SyscallName, Seccomp.SeccompArchitecture? Architecture)
{
    /// <summary>A kill whose system call the kernel did not tell.</summary>
    public static SeccompViolation Unknown { get; } = new(null, null, null);
}
