using System.Globalization;

namespace Sandbox.Seccomp;

/// <summary>
/// A condition on one syscall argument: the whole 64-bit register, compared unsigned. The compiled filter
/// compares it as two 32-bit halves (classic BPF has 32-bit registers), with the same result.
/// </summary>
/// <param name="Index">The argument, 0 to 5.</param>
/// <param name="Operator">The comparison.</param>
/// <param name="Value">The value compared with (for <see cref="ComparisonOperator.MaskedEqual"/>: its masked bits with the masked argument's).</param>
/// <param name="Mask">For <see cref="ComparisonOperator.MaskedEqual"/> only: the bits of the argument that are compared.</param>
/// <remarks>
/// A C <c>int</c> argument such as a socket domain is passed in a 64-bit register; pass negative values as
/// the sign-extended 64-bit value (the <c>long</c> overloads of <see cref="SyscallArgument"/> do).
/// </remarks>
public readonly record struct ArgumentCondition(int Index, ComparisonOperator Operator, ulong Value, ulong Mask = ulong.MaxValue)
{
    /// <summary>How many arguments a syscall has in seccomp_data (args[6]).</summary>
    public const int ArgumentCount = 6;

    /// <summary>Whether an argument with this value satisfies the condition.</summary>
    public bool Matches(ulong argument) => Operator switch
    {
        ComparisonOperator.Equal => argument == Value,
        ComparisonOperator.NotEqual => argument != Value,
        ComparisonOperator.LessThan => argument < Value,
        ComparisonOperator.LessOrEqual => argument <= Value,
        ComparisonOperator.GreaterThan => argument > Value,
        ComparisonOperator.GreaterOrEqual => argument >= Value,
        ComparisonOperator.MaskedEqual => (argument & Mask) == (Value & Mask),
        _ => throw new InvalidOperationException($"Unknown comparison operator {Operator}."),
    };

    /// <summary>What is wrong with this condition, or null.</summary>
    public string? Problem() =>
        Index is < 0 or >= ArgumentCount ? $"argument index {Index} is out of range: syscalls have arguments 0 to {ArgumentCount - 1}"
        : !Enum.IsDefined(Operator) ? $"comparison operator {(int)Operator} is unknown"
        : null;

    /// <summary>"arg0 == 0x1", "(arg0 &amp; 0x7e020000) == 0x0".</summary>
    public override string ToString()
    {
        string value = "0x" + Value.ToString("x", CultureInfo.InvariantCulture);
        return Operator switch
        {
            ComparisonOperator.MaskedEqual => $"(arg{Index} & 0x{Mask.ToString("x", CultureInfo.InvariantCulture)}) == {value}",
            ComparisonOperator.Equal => $"arg{Index} == {value}",
            ComparisonOperator.NotEqual => $"arg{Index} != {value}",
            ComparisonOperator.LessThan => $"arg{Index} < {value}",
            ComparisonOperator.LessOrEqual => $"arg{Index} <= {value}",
            ComparisonOperator.GreaterThan => $"arg{Index} > {value}",
            ComparisonOperator.GreaterOrEqual => $"arg{Index} >= {value}",
            _ => $"arg{Index} ?{(int)Operator} {value}",
        };
    }
}
