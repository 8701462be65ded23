using System.Collections.Immutable;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Sandbox.Seccomp;
using Sandbox.Seccomp.Bpf;
using Sandbox.Seccomp.Tables;

namespace Sandbox.Tests.Seccomp;

/// <summary>A policy for one architecture and calls to try it on, chosen near its edges.</summary>
public sealed record PolicyCase(SeccompArchitecture Architecture, SeccompPolicy Policy, ImmutableArray<SeccompData> Calls)
{
    public override string ToString() =>
        $"{Architecture.DisplayName()}, default {Policy.DefaultAction}, rules:\n  " + string.Join("\n  ", Policy.Rules) +
        "\ncalls:\n  " + string.Join("\n  ", Calls);
}

/// <summary>FsCheck generators for seccomp policies and the calls that probe them: boundary values v, v±1, each 32-bit half moved on its own, 0, max.</summary>
internal static class SeccompGenerators
{
    private static readonly ComparisonOperator[] AllOperators = Enum.GetValues<ComparisonOperator>();

    /// <summary>64-bit values biased to the edges of each half.</summary>
    public static Gen<ulong> Value() =>
        Gen.Frequency(
            (2, Gen.Elements(0UL, 1UL, 2UL, 0x7FFFFFFFUL, 0x80000000UL, 0xFFFFFFFFUL, 0x100000000UL, 0x100000001UL,
                0xFFFFFFFF00000000UL, 0x7FFFFFFFFFFFFFFFUL, 0x8000000000000000UL, ulong.MaxValue - 1, ulong.MaxValue)),
            (3, from high in Half() from low in Half() select ((ulong)high << 32) | low),
            (2, Gen.Choose(0, 64).Select(i => (ulong)i)));

    private static Gen<uint> Half() =>
        Gen.Frequency(
            (3, Gen.Elements(0u, 1u, 2u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu)),
            (2, Gen.Choose(0, 16).Select(i => (uint)i)),
            (2, Gen.Choose(int.MinValue, int.MaxValue).Select(i => unchecked((uint)i))));

    public static Gen<SeccompAction> Action() =>
        Gen.Frequency(
            (4, Gen.Constant(SeccompAction.Allow)),
            (4, Gen.Choose(0, SeccompAction.MaxErrno).Select(SeccompAction.Errno)),
            (1, Gen.Elements(SeccompAction.KillProcess, SeccompAction.KillThread, SeccompAction.Trap, SeccompAction.Log, SeccompAction.UserNotify)),
            (1, Gen.Choose(0, ushort.MaxValue).Select(SeccompAction.Trace)));

    public static Gen<ArgumentCondition> Condition() =>
        from index in Gen.Choose(0, 5)
        from op in Gen.Elements(AllOperators)
        from value in Value()
        from mask in Value()
        from maskValue in Gen.Frequency((3, Gen.Constant(true)), (1, Gen.Constant(false)))
        select op == ComparisonOperator.MaskedEqual
            ? new ArgumentCondition(index, op, maskValue ? value & mask : value, mask)
            : new ArgumentCondition(index, op, value);

    /// <summary>A few syscall names of <paramref name="table"/>, some neighbours by number.</summary>
    public static Gen<string[]> Names(SyscallTable table)
    {
        var names = table.Names.Order(StringComparer.Ordinal).ToArray();
        return from count in Gen.Choose(1, 12)
               from picked in Gen.ArrayOf(Gen.Elements(names), count)
               select picked.Distinct(StringComparer.Ordinal).ToArray();
    }

    public static Gen<SyscallRule> Rule(string[] names) =>
        from name in Gen.Elements(names)
        from action in Action()
        from count in Gen.Frequency((2, Gen.Constant(0)), (5, Gen.Choose(1, 2)), (2, Gen.Choose(3, 6)))
        from conditions in Gen.ArrayOf(Condition(), count)
        select new SyscallRule(name, action, [.. conditions]);

    public static Gen<SeccompPolicy> Policy(SyscallTable table) =>
        from names in Names(table)
        from defaultAction in Action()
        from count in Gen.Choose(0, 30)
        from rules in Gen.ArrayOf(Rule(names), count)
        select new SeccompPolicy(defaultAction, rules);

    /// <summary>Calls aimed at <paramref name="policy"/>: its syscalls and their neighbours, its condition values, their edges.</summary>
    public static Gen<SeccompData> Call(SeccompArchitecture architecture, SeccompPolicy policy)
    {
        var table = SyscallTable.For(architecture);
        var numbers = policy.Rules.Select(r => table.TryGetNumber(r.Syscall, out int n) ? n : 0).Distinct().ToArray();
        var values = policy.Rules.SelectMany(r => r.Conditions).SelectMany(c => new[] { c.Value, c.Mask, c.Value & c.Mask }).Distinct().ToArray();
        if (numbers.Length == 0) numbers = [0];
        if (values.Length == 0) values = [0];

        var nr = Gen.Frequency(
            (10, Gen.Elements(numbers)),
            (3, from n in Gen.Elements(numbers) from d in Gen.Elements(-1, 1) select n + d),
            (1, Gen.Elements(0, -1, 1, table.MaxNumber, table.MaxNumber + 1, int.MaxValue, int.MinValue, 0x3FFFFFFF, 0x40000000, 0x40000001)),
            (1, Gen.Elements(numbers).Select(n => n | 0x40000000)),
            (1, Gen.Choose(int.MinValue, int.MaxValue)));
        var arch = Gen.Frequency(
            (20, Gen.Constant((uint)architecture)),
            (1, Gen.Elements((uint)SeccompArchitecture.X86_64, (uint)SeccompArchitecture.Aarch64, 0x40000003u /* i386 */, 0u)));
        var argument = Gen.Frequency(
            (6, from v in Gen.Elements(values) from d in Gen.Elements(0L, 0L, 1L, -1L) select unchecked(v + (ulong)d)),
            (3, from v in Gen.Elements(values) from half in Half() from high in Gen.Elements(true, false)
                select high ? (v & 0xFFFFFFFF00000000UL) | half : ((ulong)half << 32) | (v & 0xFFFFFFFFUL)),
            (2, from v in Gen.Elements(values) from d in Gen.Elements(1L, -1L) select unchecked(v + ((ulong)d << 32))),
            (2, Value()));
        return from n in nr
               from a in arch
               from args in Gen.ArrayOf(argument, 6)
               select new SeccompData(n, a, 0, args);
    }

    public static Gen<PolicyCase> Case(Func<SyscallTable, Gen<SeccompPolicy>> policies) =>
        from architecture in Gen.Elements(SeccompArchitectures.All.ToArray())
        from policy in policies(SyscallTable.For(architecture))
        from calls in Gen.ArrayOf(Call(architecture, policy), 40)
        select new PolicyCase(architecture, policy, [.. calls]);

    public static string Describe(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);
}
