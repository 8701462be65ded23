namespace Sandbox.Seccomp.Bpf;

/// <summary>
/// Builds a classic BPF program from its end to its start, so that every jump's target already has a place
/// when the jump is written. A label is an instruction's distance from the end of the program. A conditional
/// jump whose target is more than 255 instructions away goes through a trampoline placed right after it: a
/// copy of the target when the target is a return (one instruction either way, and one fewer to run), else
/// a <c>ja</c>, whose 32-bit offset reaches anywhere.
/// </summary>
internal sealed class BpfReverseEmitter
{
    private const int MaxShortJump = byte.MaxValue;

    private readonly List<BpfInstruction> _reversed = new(256);
    private readonly Dictionary<uint, int> _returns = [];

    /// <summary>How many instructions have been emitted.</summary>
    public int Count => _reversed.Count;

    /// <summary>A return of <paramref name="value"/>: an existing one when it is near enough to jump to, else a new one.</summary>
    public int Return(uint value)
    {
        if (_returns.TryGetValue(value, out int label) && Distance(label) <= MaxShortJump / 2)
            return label;
        label = Emit(BpfInstruction.Return(value));
        _returns[value] = label;
        return label;
    }

    /// <summary>A load of the seccomp_data word at <paramref name="offset"/>, followed by <paramref name="next"/>.</summary>
    public int LoadWord(uint offset, int next) => Then(BpfInstruction.LoadWord(offset), next);

    /// <summary>A &amp;= <paramref name="mask"/>, followed by <paramref name="next"/>.</summary>
    public int And(uint mask, int next) => Then(BpfInstruction.AndConstant(mask), next);

    /// <summary>
    /// A conditional jump on A and the constant <paramref name="k"/> to <paramref name="whenTrue"/> or
    /// <paramref name="whenFalse"/>; nothing at all when both targets are the same.
    /// </summary>
    public int Jump(ushort operation, uint k, int whenTrue, int whenFalse)
    {
        while (true)
        {
            if (whenTrue == whenFalse)
                return whenTrue;
            if (Distance(whenTrue) > MaxShortJump)
                whenTrue = Trampoline(whenTrue);
            else if (Distance(whenFalse) > MaxShortJump)
                whenFalse = Trampoline(whenFalse);
            else
                return Emit(BpfInstruction.Jump(operation, k, (byte)Distance(whenTrue), (byte)Distance(whenFalse)));
        }
    }

    /// <summary>The finished program, first instruction first; <paramref name="entry"/> must be the last instruction emitted.</summary>
    public BpfInstruction[] ToProgram(int entry)
    {
        if (entry != Count - 1)
            throw new InvalidOperationException("The program's entry must be the last instruction emitted.");
        var program = _reversed.ToArray();
        Array.Reverse(program);
        return program;
    }

    /// <summary>How many instructions a jump emitted now would skip to reach <paramref name="label"/>.</summary>
    private int Distance(int label) => Count - label - 1;

    /// <summary><paramref name="insn"/>, which falls through to <paramref name="next"/> (through a jump when <paramref name="next"/> is not right after it).</summary>
    private int Then(BpfInstruction insn, int next)
    {
        if (next != Count - 1)
            Trampoline(next);
        return Emit(insn);
    }

    private int Trampoline(int target)
    {
        var insn = _reversed[target];
        return Emit(insn.IsReturnConstant ? insn : BpfInstruction.JumpAlways((uint)Distance(target)));
    }

    private int Emit(BpfInstruction insn)
    {
        _reversed.Add(insn);
        return _reversed.Count - 1;
    }
}
