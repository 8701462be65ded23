namespace Sandbox.Seccomp;

/// <summary>The six syscall arguments, for conditions: <c>using static Sandbox.Seccomp.SyscallArguments;</c> then <c>Arg0 == 1</c>.</summary>
public static class SyscallArguments
{
    /// <summary>The first argument.</summary>
    public static SyscallArgument Arg0 => new(0);

    /// <summary>The second argument.</summary>
    public static SyscallArgument Arg1 => new(1);

    /// <summary>The third argument.</summary>
    public static SyscallArgument Arg2 => new(2);

    /// <summary>The fourth argument.</summary>
    public static SyscallArgument Arg3 => new(3);

    /// <summary>The fifth argument.</summary>
    public static SyscallArgument Arg4 => new(4);

    /// <summary>The sixth argument.</summary>
    public static SyscallArgument Arg5 => new(5);

    /// <summary>Argument <paramref name="index"/> (0 to 5; checked when the policy is built).</summary>
    public static SyscallArgument Arg(int index) => new(index);
}
