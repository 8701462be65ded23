namespace Sandbox.Seccomp;

/// <summary>How an argument condition compares a syscall argument (all 64 bits, unsigned) with its value.</summary>
public enum ComparisonOperator
{
    /// <summary>argument == value.</summary>
    Equal,

    /// <summary>argument != value.</summary>
    NotEqual,

    /// <summary>argument &lt; value (unsigned).</summary>
    LessThan,

    /// <summary>argument &lt;= value (unsigned).</summary>
    LessOrEqual,

    /// <summary>argument &gt; value (unsigned).</summary>
    GreaterThan,

    /// <summary>argument &gt;= value (unsigned).</summary>
    GreaterOrEqual,

    /// <summary>(argument &amp; mask) == (value &amp; mask): the masked bits are equal (libseccomp's SCMP_CMP_MASKED_EQ; bits of the value outside the mask do not count).</summary>
    MaskedEqual,
}
