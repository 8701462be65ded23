using System.Globalization;

namespace Sandbox.Seccomp.Bpf;

/// <summary>
/// The checks the kernel makes before it accepts a seccomp filter (bpf_check_classic, seccomp_check_filter):
/// 1 to 4096 instructions, only the opcodes seccomp allows, loads of aligned words inside seccomp_data,
/// every jump forward and inside the program, no division by a zero constant, no shift by 32 or more,
/// scratch memory written before it is read on every path, and a return as the last instruction.
/// </summary>
public static class BpfProgramValidator
{
    /// <summary>Every reason the kernel would refuse <paramref name="program"/>; empty when it would load it.</summary>
    public static IReadOnlyList<string> Problems(ReadOnlySpan<BpfInstruction> program)
    {
        var problems = new List<string>();
        int length = program.Length;
        if (length == 0)
            return ["the program is empty"];
        if (length > BpfOpcodes.MaxInstructions)
            problems.Add($"the program has {length} instructions, more than the kernel's limit of {BpfOpcodes.MaxInstructions} (BPF_MAXINSNS)");

        var stored = new ushort[length];
        Array.Fill(stored, ushort.MaxValue);
        stored[0] = 0;
        for (int pc = 0; pc < length; pc++)
        {
            var insn = program[pc];
            string at = pc.ToString(CultureInfo.InvariantCulture);
            if (OpcodeProblem(insn) is { } problem)
                problems.Add($"instruction {at} ({insn}): {problem}");

            ushort known = stored[pc];
            ushort code = insn.Code;
            if (code is (BpfOpcodes.Ld | BpfOpcodes.Mem) or (BpfOpcodes.Ldx | BpfOpcodes.Mem) && insn.K < BpfOpcodes.MemoryWords &&
                (known & (1 << (int)insn.K)) == 0)
                problems.Add($"instruction {at} ({insn}): reads scratch memory M[{insn.K}] before any path stores it");
            if (code is BpfOpcodes.St or BpfOpcodes.Stx && insn.K < BpfOpcodes.MemoryWords)
                known |= (ushort)(1 << (int)insn.K);

            void Flow(long target, string what)
            {
                if (target >= length)
                    problems.Add($"instruction {at} ({insn}): the {what} jumps to {target}, past the end ({length} instructions)");
                else
                    stored[target] &= known;
            }

            switch (BpfOpcodes.Class(code))
            {
                case BpfOpcodes.Ret:
                    break;
                case BpfOpcodes.Jmp when BpfOpcodes.Operation(code) == BpfOpcodes.Ja:
                    Flow(pc + 1L + insn.K, "jump");
                    break;
                case BpfOpcodes.Jmp:
                    Flow(pc + 1L + insn.JumpTrue, "true branch");
                    Flow(pc + 1L + insn.JumpFalse, "false branch");
                    break;
                default:
                    Flow(pc + 1L, "next instruction");
                    break;
            }
        }
        if (!program[length - 1].IsReturnConstant && program[length - 1].Code != (BpfOpcodes.Ret | BpfOpcodes.A))
            problems.Add($"the last instruction ({program[length - 1]}) is not a return");
        return problems;
    }

    private static string? OpcodeProblem(BpfInstruction insn)
    {
        ushort code = insn.Code;
        switch (code)
        {
            case BpfOpcodes.Ld | BpfOpcodes.W | BpfOpcodes.Abs:
                return insn.K % 4 != 0 || insn.K > SeccompData.Size - 4
                    ? $"loads offset {insn.K}, which is not an aligned word of the {SeccompData.Size}-byte seccomp_data"
                    : null;
            case BpfOpcodes.Ld | BpfOpcodes.W | BpfOpcodes.Len:
            case BpfOpcodes.Ldx | BpfOpcodes.W | BpfOpcodes.Len:
            case BpfOpcodes.Ret | BpfOpcodes.K:
            case BpfOpcodes.Ret | BpfOpcodes.A:
            case BpfOpcodes.Ld | BpfOpcodes.Imm:
            case BpfOpcodes.Ldx | BpfOpcodes.Imm:
            case BpfOpcodes.Misc | BpfOpcodes.Tax:
            case BpfOpcodes.Misc | BpfOpcodes.Txa:
            case BpfOpcodes.Alu | BpfOpcodes.Neg:
            case BpfOpcodes.Jmp | BpfOpcodes.Ja:
                return null;
            case BpfOpcodes.Ld | BpfOpcodes.Mem:
            case BpfOpcodes.Ldx | BpfOpcodes.Mem:
            case BpfOpcodes.St:
            case BpfOpcodes.Stx:
                return insn.K >= BpfOpcodes.MemoryWords ? $"uses scratch slot {insn.K}, but there are {BpfOpcodes.MemoryWords}" : null;
        }
        bool wellFormed = (code & ~(0xf0 | 0x08 | 0x07)) == 0;
        if (BpfOpcodes.Class(code) == BpfOpcodes.Alu && wellFormed)
        {
            bool constant = BpfOpcodes.Source(code) == BpfOpcodes.K;
            switch (BpfOpcodes.Operation(code))
            {
                case BpfOpcodes.Add or BpfOpcodes.Sub or BpfOpcodes.Mul or BpfOpcodes.And or BpfOpcodes.Or or BpfOpcodes.Xor:
                    return null;
                case BpfOpcodes.Div:
                    return constant && insn.K == 0 ? "divides by the constant 0" : null;
                case BpfOpcodes.Lsh or BpfOpcodes.Rsh:
                    return constant && insn.K >= 32 ? $"shifts by {insn.K}, 32 or more" : null;
            }
        }
        if (BpfOpcodes.Class(code) == BpfOpcodes.Jmp && wellFormed &&
            BpfOpcodes.Operation(code) is BpfOpcodes.Jeq or BpfOpcodes.Jgt or BpfOpcodes.Jge or BpfOpcodes.Jset)
            return null;
        return "is not an instruction seccomp allows";
    }
}
