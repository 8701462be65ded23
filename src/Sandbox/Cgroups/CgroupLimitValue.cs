using System.Globalization;

namespace Sandbox.Cgroups;

/// <summary>
/// A limit as cgroup files write it: a non-negative number or <c>max</c> (v2 memory.max, memory.swap.max, pids.max;
/// v1 pids.max).
/// </summary>
/// <param name="Limit">The limit, or null for <c>max</c> (no limit).</param>
internal readonly record struct CgroupLimitValue(long? Limit)
{
    /// <summary>The word the kernel uses for "no limit".</summary>
    public const string MaxWord = "max";

    /// <summary>No limit.</summary>
    public static CgroupLimitValue Max => new(null);

    /// <summary>Whether this is <c>max</c>.</summary>
    public bool IsMax => Limit is null;

    /// <summary>A finite limit.</summary>
    public static CgroupLimitValue Of(long limit) =>
        limit >= 0 ? new(limit) : throw new ArgumentOutOfRangeException(nameof(limit), limit, "A cgroup limit is not negative.");

    /// <summary>Parses "max" or a decimal number, ignoring surrounding whitespace (the kernel ends values with a newline).</summary>
    public static bool TryParse(string? text, out CgroupLimitValue value)
    {
        value = default;
        string trimmed = (text ?? "").Trim();
        if (trimmed == MaxWord)
        {
            value = Max;
            return true;
        }
        if (long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out long number))
        {
            value = new(number);
            return true;
        }
        return false;
    }

    /// <summary>Parses "max" or a decimal number; <see cref="FormatException"/> otherwise.</summary>
    public static CgroupLimitValue Parse(string text) =>
        TryParse(text, out CgroupLimitValue value) ? value : throw new FormatException($"Not a cgroup limit (a number or 'max'): '{text.Trim()}'.");

    /// <summary>The text to write: "max" or the decimal number.</summary>
    public string Format() => Limit is { } limit ? limit.ToString(CultureInfo.InvariantCulture) : MaxWord;

    /// <inheritdoc />
    public override string ToString() => Format();
}
