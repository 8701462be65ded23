namespace Sandbox.Seccomp;

/// <summary>
/// A syscall argument in a condition: <c>Arg0 == AF_UNIX</c>, <c>Arg2 &lt;= 4096</c>,
/// <c>Arg0.HasNoneOf(CLONE_NEWUSER)</c> (with <c>using static Sandbox.Seccomp.SyscallArguments;</c>).
/// </summary>
/// <remarks>
/// The operators build <see cref="ArgumentCondition"/>s; they do not compare arguments. The <c>long</c>
/// overloads sign-extend (as a C <c>int</c> or <c>long</c> -1 reaches the kernel in a 64-bit register).
/// </remarks>
/// <param name="Index">The argument, 0 to 5.</param>
#pragma warning disable CS0660, CS0661 // == builds a condition; equality of two arguments is the record's own
public readonly record struct SyscallArgument(int Index)
#pragma warning restore CS0660, CS0661
{
    /// <summary>argument == value.</summary>
    public static ArgumentCondition operator ==(SyscallArgument argument, ulong value) => new(argument.Index, ComparisonOperator.Equal, value);

    /// <summary>argument != value.</summary>
    public static ArgumentCondition operator !=(SyscallArgument argument, ulong value) => new(argument.Index, ComparisonOperator.NotEqual, value);

    /// <summary>argument &lt; value.</summary>
    public static ArgumentCondition operator <(SyscallArgument argument, ulong value) => new(argument.Index, ComparisonOperator.LessThan, value);

    /// <summary>argument &lt;= value.</summary>
    public static ArgumentCondition operator <=(SyscallArgument argument, ulong value) => new(argument.Index, ComparisonOperator.LessOrEqual, value);

    /// <summary>argument &gt; value.</summary>
    public static ArgumentCondition operator >(SyscallArgument argument, ulong value) => new(argument.Index, ComparisonOperator.GreaterThan, value);

    /// <summary>argument &gt;= value.</summary>
    public static ArgumentCondition operator >=(SyscallArgument argument, ulong value) => new(argument.Index, ComparisonOperator.GreaterOrEqual, value);

    /// <summary>argument == value, sign-extended.</summary>
    public static ArgumentCondition operator ==(SyscallArgument argument, long value) => argument == unchecked((ulong)value);

    /// <summary>argument != value, sign-extended.</summary>
    public static ArgumentCondition operator !=(SyscallArgument argument, long value) => argument != unchecked((ulong)value);

    /// <summary>argument &lt; value, sign-extended, compared unsigned.</summary>
    public static ArgumentCondition operator <(SyscallArgument argument, long value) => argument < unchecked((ulong)value);

    /// <summary>argument &lt;= value, sign-extended, compared unsigned.</summary>
    public static ArgumentCondition operator <=(SyscallArgument argument, long value) => argument <= unchecked((ulong)value);

    /// <summary>argument &gt; value, sign-extended, compared unsigned.</summary>
    public static ArgumentCondition operator >(SyscallArgument argument, long value) => argument > unchecked((ulong)value);

    /// <summary>argument &gt;= value, sign-extended, compared unsigned.</summary>
    public static ArgumentCondition operator >=(SyscallArgument argument, long value) => argument >= unchecked((ulong)value);

    /// <summary>(argument &amp; mask) == (value &amp; mask).</summary>
    public ArgumentCondition MaskedEquals(ulong mask, ulong value) => new(Index, ComparisonOperator.MaskedEqual, value, mask);

    /// <summary>No bit of <paramref name="flags"/> is set: (argument &amp; flags) == 0.</summary>
    public ArgumentCondition HasNoneOf(ulong flags) => MaskedEquals(flags, 0);

    /// <summary>Every bit of <paramref name="flags"/> is set: (argument &amp; flags) == flags.</summary>
    public ArgumentCondition HasAllOf(ulong flags) => MaskedEquals(flags, flags);
}
