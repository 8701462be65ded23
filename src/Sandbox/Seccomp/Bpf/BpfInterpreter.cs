using System.Buffers.Binary;

namespace Sandbox.Seccomp.Bpf;

/// <summary>
/// Runs a classic BPF seccomp filter in user space, as the kernel would: seccomp_data in, the 32-bit return
/// value out. Only instructions seccomp allows run; a program the kernel would refuse to load throws.
/// </summary>
public static class BpfInterpreter
{
    /// <summary>What <paramref name="program"/> returns for <paramref name="data"/>.</summary>
    /// <exception cref="InvalidOperationException">The program does something the kernel would not have accepted (an invalid opcode, a jump or load out of range).</exception>
    public static uint Run(ReadOnlySpan<BpfInstruction> program, in SeccompData data) => Run(program, data, out _);

    /// <summary>What <paramref name="program"/> returns for <paramref name="data"/>, and how many instructions it ran to decide.</summary>
    /// <exception cref="InvalidOperationException">The program does something the kernel would not have accepted.</exception>
    public static uint Run(ReadOnlySpan<BpfInstruction> program, in SeccompData data, out int executed)
    {
        executed = 0;
        Span<byte> bytes = stackalloc byte[SeccompData.Size];
        data.WriteTo(bytes);
        Span<uint> memory = stackalloc uint[BpfOpcodes.MemoryWords];
        uint a = 0, x = 0;
        int pc = 0;
        while (true)
        {
            if ((uint)pc >= (uint)program.Length)
                throw Invalid(pc, program.Length, "the program ran past its end without returning");
            var insn = program[pc];
            executed++;
            uint k = insn.K;
            switch (insn.Code)
            {
                case BpfOpcodes.Ret | BpfOpcodes.K: return k;
                case BpfOpcodes.Ret | BpfOpcodes.A: return a;
                case BpfOpcodes.Ld | BpfOpcodes.W | BpfOpcodes.Abs:
                    if (k % 4 != 0 || k > SeccompData.Size - 4)
                        throw Invalid(pc, program.Length, $"an unaligned or out-of-range load at offset {k}");
                    a = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(int)k..]);
                    break;
                case BpfOpcodes.Ld | BpfOpcodes.W | BpfOpcodes.Len: a = SeccompData.Size; break;
                case BpfOpcodes.Ldx | BpfOpcodes.W | BpfOpcodes.Len: x = SeccompData.Size; break;
                case BpfOpcodes.Ld | BpfOpcodes.Imm: a = k; break;
                case BpfOpcodes.Ldx | BpfOpcodes.Imm: x = k; break;
                case BpfOpcodes.Ld | BpfOpcodes.Mem: a = memory[Slot(pc, program.Length, k)]; break;
                case BpfOpcodes.Ldx | BpfOpcodes.Mem: x = memory[Slot(pc, program.Length, k)]; break;
                case BpfOpcodes.St: memory[Slot(pc, program.Length, k)] = a; break;
                case BpfOpcodes.Stx: memory[Slot(pc, program.Length, k)] = x; break;
                case BpfOpcodes.Misc | BpfOpcodes.Tax: x = a; break;
                case BpfOpcodes.Misc | BpfOpcodes.Txa: a = x; break;
                case BpfOpcodes.Alu | BpfOpcodes.Neg: a = unchecked(0u - a); break;
                case BpfOpcodes.Jmp | BpfOpcodes.Ja:
                    pc = checked(pc + 1 + (int)Math.Min(k, int.MaxValue - 1 - (uint)pc));
                    continue;
                default:
                    ushort cls = BpfOpcodes.Class(insn.Code);
                    uint operand = BpfOpcodes.Source(insn.Code) == BpfOpcodes.X ? x : k;
                    if ((insn.Code & ~(0xf0 | 0x08 | 0x07)) != 0)
                        throw Invalid(pc, program.Length, $"opcode 0x{insn.Code:x4} is not allowed in seccomp filters");
                    if (cls == BpfOpcodes.Alu)
                    {
                        // The kernel refuses a constant 0 divisor at load time; a zero X makes the filter return 0.
                        if (BpfOpcodes.Operation(insn.Code) == BpfOpcodes.Div && operand == 0)
                            return 0;
                        a = BpfOpcodes.Operation(insn.Code) switch
                        {
                            BpfOpcodes.Add => unchecked(a + operand),
                            BpfOpcodes.Sub => unchecked(a - operand),
                            BpfOpcodes.Mul => unchecked(a * operand),
                            BpfOpcodes.Div => a / operand,
                            BpfOpcodes.And => a & operand,
                            BpfOpcodes.Or => a | operand,
                            BpfOpcodes.Xor => a ^ operand,
                            BpfOpcodes.Lsh => operand >= 32 ? 0 : a << (int)operand,
                            BpfOpcodes.Rsh => operand >= 32 ? 0 : a >> (int)operand,
                            _ => throw Invalid(pc, program.Length, $"ALU opcode 0x{insn.Code:x4} is not allowed in seccomp filters"),
                        };
                        break;
                    }
                    if (cls == BpfOpcodes.Jmp)
                    {
                        bool taken = BpfOpcodes.Operation(insn.Code) switch
                        {
                            BpfOpcodes.Jeq => a == operand,
                            BpfOpcodes.Jgt => a > operand,
                            BpfOpcodes.Jge => a >= operand,
                            BpfOpcodes.Jset => (a & operand) != 0,
                            _ => throw Invalid(pc, program.Length, $"jump opcode 0x{insn.Code:x4} is not allowed in seccomp filters"),
                        };
                        pc += 1 + (taken ? insn.JumpTrue : insn.JumpFalse);
                        continue;
                    }
                    throw Invalid(pc, program.Length, $"opcode 0x{insn.Code:x4} is not allowed in seccomp filters");
            }
            pc++;
        }
    }

    /// <summary>What <paramref name="program"/> does with <paramref name="data"/>, as an action.</summary>
    public static SeccompAction Evaluate(ReadOnlySpan<BpfInstruction> program, in SeccompData data) =>
        SeccompAction.FromReturnValue(Run(program, data));

    private static int Slot(int pc, int length, uint k) =>
        k < BpfOpcodes.MemoryWords ? (int)k : throw Invalid(pc, length, $"scratch slot {k} does not exist");

    private static InvalidOperationException Invalid(int pc, int length, string what) =>
        new($"The BPF program ({length} instructions) is invalid at instruction {pc}: {what}.");
}
