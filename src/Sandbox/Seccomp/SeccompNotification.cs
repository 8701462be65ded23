using System.Collections.Immutable;
using Sandbox.Interop;

namespace Sandbox.Seccomp;

/// <summary>
/// A system call the sandboxed program made that its policy sends to the host (<see cref="SeccompAction.UserNotify"/>):
/// the call waits, stopped in the kernel, until the supervisor answers with a <see cref="SeccompNotificationResponse"/>.
/// </summary>
/// <remarks>
/// Pointer arguments point into the program's memory: <see cref="ReadMemory"/> reads it, and checks afterwards that the
/// call is still the one waiting (so the read was not of a process that has since exited or exec'd). Another thread
/// of the program may change that memory after the read: decide on copies only, and prefer
/// <see cref="SeccompNotificationResponse.Fail"/> to <see cref="SeccompNotificationResponse.Continue"/> when the
/// decision rests on pointed-to data (the kernel lets a continued call read the memory again).
/// </remarks>
public sealed class SeccompNotification
{
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _listener;

    internal SeccompNotification(Microsoft.Win32.SafeHandles.SafeFileHandle listener, ulong id, int pid, SeccompArchitecture architecture,
        int syscall, ulong instructionPointer, ImmutableArray<ulong> arguments)
    {
        _listener = listener;
        Id = id;
        Pid = pid;
        Architecture = architecture;
        SyscallNumber = syscall;
        SyscallName = Enum.IsDefined(architecture) ? Tables.SyscallTable.For(architecture).NameOf(syscall) : null;
        InstructionPointer = instructionPointer;
        Arguments = arguments;
    }

    /// <summary>The kernel's id of this notification.</summary>
    public ulong Id { get; }

    /// <summary>The calling thread, as the host's PID namespace numbers it.</summary>
    public int Pid { get; }

    /// <summary>The architecture the call was made with.</summary>
    public SeccompArchitecture Architecture { get; }

    /// <summary>The system call's number.</summary>
    public int SyscallNumber { get; }

    /// <summary>The system call's name, from the syscall table; null when the table does not know it.</summary>
    public string? SyscallName { get; }

    /// <summary>The program counter of the call.</summary>
    public ulong InstructionPointer { get; }

    /// <summary>The six arguments, as the kernel passed them.</summary>
    public ImmutableArray<ulong> Arguments { get; }

    /// <summary>
    /// Copies <paramref name="length"/> bytes at <paramref name="address"/> in the calling process's memory; null if they
    /// cannot be read, or if the call stopped waiting meanwhile (the process died or exec'd), when nothing read may be trusted.
    /// </summary>
    public byte[]? ReadMemory(ulong address, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var buffer = new byte[length];
        long read = SeccompListenerCalls.ReadProcessMemory(Pid, address, buffer);
        if (read != length || !SeccompListenerCalls.IsStillValid(_listener, Id))
            return null;
        return buffer;
    }

    /// <inheritdoc />
    public override string ToString() => $"{SyscallName ?? "#" + SyscallNumber}({string.Join(", ", Arguments.Select(a => "0x" + a.ToString("x", System.Globalization.CultureInfo.InvariantCulture)))}) by pid {Pid}";
}
