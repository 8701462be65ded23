using Sandbox.Seccomp.Tables;

namespace Sandbox.Seccomp.Bpf;

/// <summary>
/// Compiles a <see cref="SeccompPolicy"/> into a classic BPF seccomp filter for one architecture.
/// </summary>
/// <remarks>
/// <para>The program: load <c>arch</c> and kill the process unless it is the target's AUDIT_ARCH; load
/// <c>nr</c>; on x86_64 kill x32 numbers (&gt;= 0x40000000, except -1, the number of a syscall a tracer skipped); then a balanced binary search over the syscall
/// number space. The space is cut into intervals, each with one outcome — the default action for the gaps,
/// a fixed action for syscalls whose rules reduce to one (adjacent intervals with the same action merge, so
/// a large allow-list is a few dozen ranges), or the rule block of a syscall with conditions — so a call
/// costs about log2(intervals) comparisons, not one per syscall.</para>
/// <para>A rule block tries the syscall's rules in order; each condition compares the 64-bit argument as
/// two 32-bit halves, high half first. The program is emitted backwards (see <see cref="BpfReverseEmitter"/>),
/// which places return instructions near their users and routes jumps beyond 255 through trampolines.</para>
/// </remarks>
internal static class SeccompCompiler
{
    /// <summary>The outcome of an interval of syscall numbers: a fixed return value, or the rules of one syscall.</summary>
    private readonly record struct Target(uint ReturnValue, List<SyscallRule>? Rules);

    private readonly record struct Interval(uint Start, Target Target);

    /// <summary>Compiles <paramref name="policy"/> (assumed valid) for <paramref name="architecture"/>.</summary>
    public static SeccompProgram Compile(SeccompPolicy policy, SeccompArchitecture architecture)
    {
        var table = SyscallTable.For(architecture);
        uint defaultValue = policy.DefaultAction.ReturnValue;

        var bySyscall = new SortedDictionary<int, List<SyscallRule>>();
        foreach (var rule in policy.Rules)
        {
            if (!table.TryGetNumber(rule.Syscall, out int number))
                continue;
            if (!bySyscall.TryGetValue(number, out var rules))
                bySyscall[number] = rules = [];
            rules.Add(rule);
        }

        var intervals = new List<Interval>();
        void AddInterval(uint start, Target target)
        {
            if (intervals.Count > 0 && intervals[^1].Target.Rules is null && target.Rules is null && intervals[^1].Target.ReturnValue == target.ReturnValue)
                return;
            intervals.Add(new Interval(start, target));
        }
        uint next = 0;
        foreach (var (number, rules) in bySyscall)
        {
            if (Simplify(rules, defaultValue) is not { } target)
                continue;
            if ((uint)number > next)
                AddInterval(next, new Target(defaultValue, null));
            AddInterval((uint)number, target);
            next = (uint)number + 1;
        }
        AddInterval(next, new Target(defaultValue, null));

        var emitter = new BpfReverseEmitter();
        int tree = EmitTree(emitter, intervals, 0, intervals.Count - 1, defaultValue);
        int afterNumber = tree;
        if (architecture == SeccompArchitecture.X86_64)
        {
            // x32 numbers carry bit 30; -1 (which a tracer sets to skip a syscall, and the kernel then
            // re-checks) is no x32 call and goes on to the default action, as with libseccomp.
            int x32 = emitter.Jump(BpfOpcodes.Jeq, SeccompArchitectures.SkippedSyscall, tree, emitter.Return(SeccompAction.RetKillProcess));
            afterNumber = emitter.Jump(BpfOpcodes.Jge, SeccompArchitectures.X32SyscallBit, x32, tree);
        }
        int loadNumber = emitter.LoadWord(SeccompData.NrOffset, afterNumber);
        int wrongArchitecture = emitter.Return(SeccompAction.RetKillProcess);
        int checkArchitecture = emitter.Jump(BpfOpcodes.Jeq, (uint)architecture, loadNumber, wrongArchitecture);
        int entry = emitter.LoadWord(SeccompData.ArchOffset, checkArchitecture);
        return new SeccompProgram(architecture, [.. emitter.ToProgram(entry)]);
    }

    /// <summary>
    /// What a syscall's rules come to: null when every call gets the default anyway, a fixed return value
    /// when the first rule has no condition, else the rules that can matter (those after an unconditional
    /// rule never run; trailing rules giving the default change nothing).
    /// </summary>
    private static Target? Simplify(List<SyscallRule> rules, uint defaultValue)
    {
        var kept = new List<SyscallRule>(rules.Count);
        foreach (var rule in rules)
        {
            kept.Add(rule);
            if (rule.Conditions.IsDefaultOrEmpty)
                break;
        }
        while (kept.Count > 0 && kept[^1].Action.ReturnValue == defaultValue)
            kept.RemoveAt(kept.Count - 1);
        if (kept.Count == 0)
            return null;
        return kept[0].Conditions.IsDefaultOrEmpty ? new Target(kept[0].Action.ReturnValue, null) : new Target(0, kept);
    }

    private static int EmitTree(BpfReverseEmitter emitter, List<Interval> intervals, int low, int high, uint defaultValue)
    {
        if (low == high)
        {
            var target = intervals[low].Target;
            return target.Rules is null ? emitter.Return(target.ReturnValue) : EmitRules(emitter, target.Rules, defaultValue);
        }
        int middle = (low + high + 1) / 2;
        int above = EmitTree(emitter, intervals, middle, high, defaultValue);
        int below = EmitTree(emitter, intervals, low, middle - 1, defaultValue);
        return emitter.Jump(BpfOpcodes.Jge, intervals[middle].Start, above, below);
    }

    private static int EmitRules(BpfReverseEmitter emitter, List<SyscallRule> rules, uint defaultValue)
    {
        int next = emitter.Return(defaultValue);
        for (int i = rules.Count - 1; i >= 0; i--)
        {
            var rule = rules[i];
            int entry = emitter.Return(rule.Action.ReturnValue);
            var conditions = rule.Conditions.IsDefault ? [] : rule.Conditions;
            for (int j = conditions.Length - 1; j >= 0; j--)
                entry = EmitCondition(emitter, conditions[j], entry, next);
            next = entry;
        }
        return next;
    }

    /// <summary>Code that goes to <paramref name="match"/> when <paramref name="condition"/> holds, else to <paramref name="fail"/>.</summary>
    private static int EmitCondition(BpfReverseEmitter emitter, ArgumentCondition condition, int match, int fail)
    {
        uint lowOffset = SeccompData.ArgsOffset + (8 * (uint)condition.Index);
        uint highOffset = lowOffset + 4;
        uint lowValue = (uint)condition.Value;
        uint highValue = (uint)(condition.Value >> 32);

        switch (condition.Operator)
        {
            case ComparisonOperator.Equal:
            {
                int low = Load(emitter, lowOffset, emitter.Jump(BpfOpcodes.Jeq, lowValue, match, fail));
                return Load(emitter, highOffset, emitter.Jump(BpfOpcodes.Jeq, highValue, low, fail));
            }
            case ComparisonOperator.NotEqual:
            {
                int low = Load(emitter, lowOffset, emitter.Jump(BpfOpcodes.Jeq, lowValue, fail, match));
                return Load(emitter, highOffset, emitter.Jump(BpfOpcodes.Jeq, highValue, low, match));
            }
            case ComparisonOperator.GreaterThan:
            case ComparisonOperator.GreaterOrEqual:
            {
                // high > v.high: match; high < v.high: fail; equal: compare the low halves.
                ushort lowJump = condition.Operator == ComparisonOperator.GreaterThan ? BpfOpcodes.Jgt : BpfOpcodes.Jge;
                int low = Load(emitter, lowOffset, emitter.Jump(lowJump, lowValue, match, fail));
                return Load(emitter, highOffset, HighHalf(emitter, highValue, above: match, equal: low, below: fail));
            }
            case ComparisonOperator.LessThan:
            case ComparisonOperator.LessOrEqual:
            {
                // x < v is !(x >= v); x <= v is !(x > v).
                ushort lowJump = condition.Operator == ComparisonOperator.LessThan ? BpfOpcodes.Jge : BpfOpcodes.Jgt;
                int low = Load(emitter, lowOffset, emitter.Jump(lowJump, lowValue, fail, match));
                return Load(emitter, highOffset, HighHalf(emitter, highValue, above: fail, equal: low, below: match));
            }
            case ComparisonOperator.MaskedEqual:
            {
                int low = MaskedHalf(emitter, lowOffset, (uint)condition.Mask, lowValue, match, fail);
                return MaskedHalf(emitter, highOffset, (uint)(condition.Mask >> 32), highValue, low, fail);
            }
            default:
                throw new InvalidOperationException($"Unknown comparison operator {condition.Operator}.");
        }
    }

    /// <summary>With the high half in A: to <paramref name="above"/>, <paramref name="equal"/> or <paramref name="below"/> as it compares with <paramref name="value"/>.</summary>
    private static int HighHalf(BpfReverseEmitter emitter, uint value, int above, int equal, int below)
    {
        // Not above 0 means equal to 0; nothing is above uint.MaxValue.
        int notAbove = value == 0 ? equal : emitter.Jump(BpfOpcodes.Jeq, value, equal, below);
        return value == uint.MaxValue ? notAbove : emitter.Jump(BpfOpcodes.Jgt, value, above, notAbove);
    }

    private static int MaskedHalf(BpfReverseEmitter emitter, uint offset, uint mask, uint value, int match, int fail)
    {
        value &= mask;
        if (mask == 0)
            return match;
        int compare = emitter.Jump(BpfOpcodes.Jeq, value, match, fail);
        int masked = mask == uint.MaxValue || !JustEmitted(emitter, compare) ? compare : emitter.And(mask, compare);
        return Load(emitter, offset, masked);
    }

    /// <summary>A load of <paramref name="offset"/> before <paramref name="next"/>, unless <paramref name="next"/> does not use A (it was not just emitted: a jump that collapsed).</summary>
    private static int Load(BpfReverseEmitter emitter, uint offset, int next) =>
        JustEmitted(emitter, next) ? emitter.LoadWord(offset, next) : next;

    private static bool JustEmitted(BpfReverseEmitter emitter, int label) => label == emitter.Count - 1;
}
