using System.Globalization;
using Sandbox.Interop;

namespace Sandbox.Seccomp;

/// <summary>What a filter does with a syscall: an action and its 16 bits of data (the errno of <see cref="Errno"/>).</summary>
public readonly record struct SeccompAction
{
    /// <summary>SECCOMP_RET_KILL_PROCESS.</summary>
    public const uint RetKillProcess = 0x80000000;

    /// <summary>SECCOMP_RET_KILL_THREAD.</summary>
    public const uint RetKillThread = 0x00000000;

    /// <summary>SECCOMP_RET_TRAP.</summary>
    public const uint RetTrap = 0x00030000;

    /// <summary>SECCOMP_RET_ERRNO.</summary>
    public const uint RetErrno = 0x00050000;

    /// <summary>SECCOMP_RET_USER_NOTIF.</summary>
    public const uint RetUserNotify = 0x7FC00000;

    /// <summary>SECCOMP_RET_TRACE.</summary>
    public const uint RetTrace = 0x7FF00000;

    /// <summary>SECCOMP_RET_LOG.</summary>
    public const uint RetLog = 0x7FFC0000;

    /// <summary>SECCOMP_RET_ALLOW.</summary>
    public const uint RetAllow = 0x7FFF0000;

    /// <summary>SECCOMP_RET_ACTION_FULL: the bits of a return value that are the action.</summary>
    public const uint ActionMask = 0xFFFF0000;

    /// <summary>SECCOMP_RET_DATA: the bits of a return value that are the action's data.</summary>
    public const uint DataMask = 0x0000FFFF;

    /// <summary>The largest errno the kernel passes on (MAX_ERRNO); larger values are clamped by it.</summary>
    public const int MaxErrno = 4095;

    private SeccompAction(SeccompActionKind kind, ushort data)
    {
        Kind = kind;
        Data = data;
    }

    /// <summary>The action.</summary>
    public SeccompActionKind Kind { get; }

    /// <summary>Its data: the errno of <see cref="SeccompActionKind.Errno"/>, the value a tracer sees for <see cref="SeccompActionKind.Trace"/>.</summary>
    public ushort Data { get; }

    /// <summary>The syscall runs.</summary>
    public static SeccompAction Allow { get; } = new(SeccompActionKind.Allow, 0);

    /// <summary>The whole process is killed with SIGSYS.</summary>
    public static SeccompAction KillProcess { get; } = new(SeccompActionKind.KillProcess, 0);

    /// <summary>The calling thread is killed with SIGSYS.</summary>
    public static SeccompAction KillThread { get; } = new(SeccompActionKind.KillThread, 0);

    /// <summary>The thread receives a SIGSYS it can handle.</summary>
    public static SeccompAction Trap { get; } = new(SeccompActionKind.Trap, 0);

    /// <summary>The syscall runs and is logged.</summary>
    public static SeccompAction Log { get; } = new(SeccompActionKind.Log, 0);

    /// <summary>A user-space supervisor decides.</summary>
    public static SeccompAction UserNotify { get; } = new(SeccompActionKind.UserNotify, 0);

    /// <summary>The syscall fails with <paramref name="errno"/> (0 to <see cref="MaxErrno"/>; 0 makes it "succeed" without running).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The errno is outside 0..4095.</exception>
    public static SeccompAction Errno(int errno)
    {
        if (errno is < 0 or > MaxErrno)
            throw new ArgumentOutOfRangeException(nameof(errno), errno, $"An errno must be between 0 and {MaxErrno} (the kernel's MAX_ERRNO).");
        return new(SeccompActionKind.Errno, (ushort)errno);
    }

    /// <summary>A ptrace tracer is notified with <paramref name="data"/> (0..65535).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The data is outside 0..65535.</exception>
    public static SeccompAction Trace(int data)
    {
        if (data is < 0 or > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(data), data, "The data of a trace action must fit 16 bits (0..65535).");
        return new(SeccompActionKind.Trace, (ushort)data);
    }

    /// <summary>The 32-bit value a filter returns for this action (SECCOMP_RET_* | data).</summary>
    public uint ReturnValue => Kind switch
    {
        SeccompActionKind.Allow => RetAllow,
        SeccompActionKind.Errno => RetErrno | Data,
        SeccompActionKind.KillProcess => RetKillProcess,
        SeccompActionKind.KillThread => RetKillThread,
        SeccompActionKind.Trap => RetTrap | Data,
        SeccompActionKind.Log => RetLog,
        SeccompActionKind.UserNotify => RetUserNotify,
        SeccompActionKind.Trace => RetTrace | Data,
        _ => throw new InvalidOperationException($"Unknown seccomp action kind {Kind}."),
    };

    /// <summary>
    /// The action a filter's return value means to the kernel. A value with an unknown action is treated by
    /// the kernel as <see cref="KillProcess"/>, and so here; an errno above 4095 is clamped as the kernel does.
    /// </summary>
    public static SeccompAction FromReturnValue(uint value)
    {
        ushort data = (ushort)(value & DataMask);
        return (value & ActionMask) switch
        {
            RetAllow => Allow,
            RetErrno => new(SeccompActionKind.Errno, Math.Min(data, (ushort)MaxErrno)),
            RetKillThread => KillThread,
            RetTrap => new(SeccompActionKind.Trap, data),
            RetLog => Log,
            RetUserNotify => UserNotify,
            RetTrace => new(SeccompActionKind.Trace, data),
            _ => KillProcess,
        };
    }

    /// <summary>"Allow", "Errno(EPERM)", "KillProcess", "Trace(7)"...</summary>
    public override string ToString() => Kind switch
    {
        SeccompActionKind.Errno => $"Errno({ErrnoNames.Of(Data)})",
        SeccompActionKind.Trace or SeccompActionKind.Trap when Data != 0 => $"{Kind}({Data.ToString(CultureInfo.InvariantCulture)})",
        _ => Kind.ToString(),
    };
}
