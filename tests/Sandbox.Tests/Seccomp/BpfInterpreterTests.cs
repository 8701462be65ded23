using Sandbox.Seccomp;
using Sandbox.Seccomp.Bpf;

namespace Sandbox.Tests.Seccomp;

/// <summary>The interpreter runs every instruction seccomp allows as the kernel does; the validator refuses what the kernel refuses.</summary>
public class BpfInterpreterTests
{
    private static readonly SeccompData Call = new(42, SeccompArchitecture.X86_64, 0x1122334455667788UL, 7);

    private static BpfInstruction I(ushort code, uint k = 0, byte jt = 0, byte jf = 0) => new(code, jt, jf, k);

    private static uint Run(params BpfInstruction[] program)
    {
        Assert.Empty(BpfProgramValidator.Problems(program));
        return BpfInterpreter.Run(program, Call);
    }

    [Fact]
    public void Loads_read_little_endian_words_of_seccomp_data()
    {
        Assert.Equal(42u, Run(BpfInstruction.LoadWord(0), I(BpfOpcodes.Ret | BpfOpcodes.A)));
        Assert.Equal((uint)SeccompArchitecture.X86_64, Run(BpfInstruction.LoadWord(4), I(BpfOpcodes.Ret | BpfOpcodes.A)));
        Assert.Equal(0x55667788u, Run(BpfInstruction.LoadWord(16), I(BpfOpcodes.Ret | BpfOpcodes.A)));
        Assert.Equal(0x11223344u, Run(BpfInstruction.LoadWord(20), I(BpfOpcodes.Ret | BpfOpcodes.A)));
        Assert.Equal(7u, Run(BpfInstruction.LoadWord(24), I(BpfOpcodes.Ret | BpfOpcodes.A)));
        Assert.Equal(64u, Run(I(BpfOpcodes.Ld | BpfOpcodes.W | BpfOpcodes.Len), I(BpfOpcodes.Ret | BpfOpcodes.A)));
    }

    [Theory]
    [InlineData(BpfOpcodes.Add, 10u, 3u, 13u)]
    [InlineData(BpfOpcodes.Sub, 3u, 10u, 0xFFFFFFF9u)]
    [InlineData(BpfOpcodes.Mul, 0x10000u, 0x10000u, 0u)]
    [InlineData(BpfOpcodes.Div, 10u, 3u, 3u)]
    [InlineData(BpfOpcodes.And, 0xF0u, 0x3Cu, 0x30u)]
    [InlineData(BpfOpcodes.Or, 0xF0u, 0x0Fu, 0xFFu)]
    [InlineData(BpfOpcodes.Xor, 0xFFu, 0x0Fu, 0xF0u)]
    [InlineData(BpfOpcodes.Lsh, 1u, 31u, 0x80000000u)]
    [InlineData(BpfOpcodes.Rsh, 0x80000000u, 31u, 1u)]
    public void Arithmetic_wraps_at_32_bits_with_a_constant_or_the_index_register(ushort op, uint a, uint operand, uint expected)
    {
        Assert.Equal(expected, Run(I(BpfOpcodes.Ld | BpfOpcodes.Imm, a), I((ushort)(BpfOpcodes.Alu | op | BpfOpcodes.K), operand), I(BpfOpcodes.Ret | BpfOpcodes.A)));
        Assert.Equal(expected, Run(I(BpfOpcodes.Ldx | BpfOpcodes.Imm, operand), I(BpfOpcodes.Ld | BpfOpcodes.Imm, a),
            I((ushort)(BpfOpcodes.Alu | op | BpfOpcodes.X)), I(BpfOpcodes.Ret | BpfOpcodes.A)));
    }

    [Fact]
    public void Dividing_by_a_zero_index_register_returns_0_and_by_a_zero_constant_is_refused()
    {
        Assert.Equal(0u, Run(I(BpfOpcodes.Ld | BpfOpcodes.Imm, 5), I(BpfOpcodes.Alu | BpfOpcodes.Div | BpfOpcodes.X), BpfInstruction.Return(9)));
        Assert.Contains(BpfProgramValidator.Problems([I(BpfOpcodes.Alu | BpfOpcodes.Div | BpfOpcodes.K, 0), BpfInstruction.Return(1)]), p => p.Contains("divides by the constant 0", StringComparison.Ordinal));
    }

    [Fact]
    public void Scratch_memory_and_register_transfers_work()
    {
        Assert.Equal(42u, Run(BpfInstruction.LoadWord(0), I(BpfOpcodes.St, 3), I(BpfOpcodes.Ld | BpfOpcodes.Imm, 0), I(BpfOpcodes.Ldx | BpfOpcodes.Mem, 3),
            I(BpfOpcodes.Misc | BpfOpcodes.Txa), I(BpfOpcodes.Ret | BpfOpcodes.A)));
        Assert.Equal(unchecked((uint)-42), Run(BpfInstruction.LoadWord(0), I(BpfOpcodes.Alu | BpfOpcodes.Neg), I(BpfOpcodes.Misc | BpfOpcodes.Tax),
            I(BpfOpcodes.Misc | BpfOpcodes.Txa), I(BpfOpcodes.Ret | BpfOpcodes.A)));
    }

    [Theory]
    [InlineData(BpfOpcodes.Jeq, 42u, true)]
    [InlineData(BpfOpcodes.Jeq, 41u, false)]
    [InlineData(BpfOpcodes.Jgt, 41u, true)]
    [InlineData(BpfOpcodes.Jgt, 42u, false)]
    [InlineData(BpfOpcodes.Jge, 42u, true)]
    [InlineData(BpfOpcodes.Jge, 43u, false)]
    [InlineData(BpfOpcodes.Jset, 2u, true)]
    [InlineData(BpfOpcodes.Jset, 1u, false)]
    public void Conditional_jumps_compare_unsigned(ushort op, uint k, bool taken)
    {
        uint result = Run(BpfInstruction.LoadWord(0), BpfInstruction.Jump(op, k, 1, 0), BpfInstruction.Return(0), BpfInstruction.Return(1));
        Assert.Equal(taken ? 1u : 0u, result);
        uint viaX = Run(I(BpfOpcodes.Ldx | BpfOpcodes.Imm, k), BpfInstruction.LoadWord(0), I((ushort)(BpfOpcodes.Jmp | op | BpfOpcodes.X), 0, 1, 0),
            BpfInstruction.Return(0), BpfInstruction.Return(1));
        Assert.Equal(result, viaX);
        Assert.Equal(2u, Run(BpfInstruction.JumpAlways(1), BpfInstruction.Return(1), BpfInstruction.Return(2)));
    }

    [Fact]
    public void The_validator_refuses_what_the_kernel_refuses()
    {
        Assert.Equal(["the program is empty"], BpfProgramValidator.Problems([]));
        Assert.Contains(BpfProgramValidator.Problems([BpfInstruction.LoadWord(2), BpfInstruction.Return(0)]), p => p.Contains("not an aligned word", StringComparison.Ordinal));
        Assert.Contains(BpfProgramValidator.Problems([BpfInstruction.LoadWord(64), BpfInstruction.Return(0)]), p => p.Contains("not an aligned word", StringComparison.Ordinal));
        Assert.Contains(BpfProgramValidator.Problems([BpfInstruction.Jump(BpfOpcodes.Jeq, 0, 5, 0), BpfInstruction.Return(0)]), p => p.Contains("past the end", StringComparison.Ordinal));
        Assert.Contains(BpfProgramValidator.Problems([BpfInstruction.JumpAlways(1), BpfInstruction.Return(0)]), p => p.Contains("past the end", StringComparison.Ordinal));
        Assert.Contains(BpfProgramValidator.Problems([BpfInstruction.LoadWord(0)]), p => p.Contains("not a return", StringComparison.Ordinal));
        Assert.Contains(BpfProgramValidator.Problems([I(BpfOpcodes.Ld | BpfOpcodes.Mem, 1), BpfInstruction.Return(0)]), p => p.Contains("before any path stores it", StringComparison.Ordinal));
        Assert.Contains(BpfProgramValidator.Problems([I(BpfOpcodes.Ld | BpfOpcodes.B | BpfOpcodes.Abs, 0), BpfInstruction.Return(0)]), p => p.Contains("not an instruction seccomp allows", StringComparison.Ordinal));
        Assert.Contains(BpfProgramValidator.Problems([I(BpfOpcodes.Alu | BpfOpcodes.Mod | BpfOpcodes.K, 3), BpfInstruction.Return(0)]), p => p.Contains("not an instruction seccomp allows", StringComparison.Ordinal));
        Assert.Contains(BpfProgramValidator.Problems([I(BpfOpcodes.Alu | BpfOpcodes.Lsh | BpfOpcodes.K, 32), BpfInstruction.Return(0)]), p => p.Contains("shifts by 32", StringComparison.Ordinal));
        var tooLong = Enumerable.Repeat(BpfInstruction.Return(0), BpfOpcodes.MaxInstructions + 1).ToArray();
        Assert.Contains(BpfProgramValidator.Problems(tooLong), p => p.Contains("more than the kernel's limit of 4096", StringComparison.Ordinal));
        // Stored on one path only: still refused.
        Assert.Contains(BpfProgramValidator.Problems([BpfInstruction.LoadWord(0), BpfInstruction.Jump(BpfOpcodes.Jeq, 1, 0, 1), I(BpfOpcodes.St, 2),
            I(BpfOpcodes.Ld | BpfOpcodes.Mem, 2), BpfInstruction.Return(0)]), p => p.Contains("M[2]", StringComparison.Ordinal));
    }

    [Fact]
    public void An_invalid_program_throws_instead_of_guessing()
    {
        Assert.Throws<InvalidOperationException>(() => BpfInterpreter.Run([BpfInstruction.LoadWord(0)], Call));
        Assert.Throws<InvalidOperationException>(() => BpfInterpreter.Run([BpfInstruction.LoadWord(3), BpfInstruction.Return(0)], Call));
        Assert.Throws<InvalidOperationException>(() => BpfInterpreter.Run([I(BpfOpcodes.Ld | BpfOpcodes.H | BpfOpcodes.Abs, 0), BpfInstruction.Return(0)], Call));
    }

    [Theory]
    [InlineData(0x7FFF0000u, SeccompActionKind.Allow, 0)]
    [InlineData(0x00050001u, SeccompActionKind.Errno, 1)]
    [InlineData(0x0005FFFFu, SeccompActionKind.Errno, 4095)]
    [InlineData(0x80000000u, SeccompActionKind.KillProcess, 0)]
    [InlineData(0x00000000u, SeccompActionKind.KillThread, 0)]
    [InlineData(0x00030000u, SeccompActionKind.Trap, 0)]
    [InlineData(0x7FFC0000u, SeccompActionKind.Log, 0)]
    [InlineData(0x7FC00000u, SeccompActionKind.UserNotify, 0)]
    [InlineData(0x7FF00007u, SeccompActionKind.Trace, 7)]
    [InlineData(0x12340000u, SeccompActionKind.KillProcess, 0)]
    public void Return_values_mean_what_the_kernel_makes_of_them(uint value, SeccompActionKind kind, int data)
    {
        var action = SeccompAction.FromReturnValue(value);
        Assert.Equal(kind, action.Kind);
        Assert.Equal(data, action.Data);
    }
}
