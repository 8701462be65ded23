using System.Buffers.Binary;
using System.Globalization;

namespace Sandbox.Seccomp.Bpf;

/// <summary>
/// A classic BPF instruction: the kernel's <c>struct sock_filter</c> (8 bytes: __u16 code, __u8 jt, __u8 jf,
/// __u32 k). Conditional jumps skip <see cref="JumpTrue"/> or <see cref="JumpFalse"/> instructions forward
/// (at most 255); <see cref="BpfOpcodes.Ja"/> skips <see cref="K"/>.
/// </summary>
/// <param name="Code">The opcode.</param>
/// <param name="JumpTrue">How many instructions a conditional jump skips when true.</param>
/// <param name="JumpFalse">How many it skips when false.</param>
/// <param name="K">The constant operand (offset, value, jump distance, return value).</param>
public readonly record struct BpfInstruction(ushort Code, byte JumpTrue, byte JumpFalse, uint K)
{
    /// <summary>sizeof(struct sock_filter).</summary>
    public const int Size = 8;

    /// <summary>A = the 32-bit word of seccomp_data at <paramref name="offset"/>.</summary>
    public static BpfInstruction LoadWord(uint offset) => new(BpfOpcodes.Ld | BpfOpcodes.W | BpfOpcodes.Abs, 0, 0, offset);

    /// <summary>A &amp;= <paramref name="mask"/>.</summary>
    public static BpfInstruction AndConstant(uint mask) => new(BpfOpcodes.Alu | BpfOpcodes.And | BpfOpcodes.K, 0, 0, mask);

    /// <summary>Jump <paramref name="distance"/> instructions forward.</summary>
    public static BpfInstruction JumpAlways(uint distance) => new(BpfOpcodes.Jmp | BpfOpcodes.Ja, 0, 0, distance);

    /// <summary>A conditional jump comparing A with the constant <paramref name="k"/> (<paramref name="operation"/>: BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET).</summary>
    public static BpfInstruction Jump(ushort operation, uint k, byte jumpTrue, byte jumpFalse) =>
        new((ushort)(BpfOpcodes.Jmp | operation | BpfOpcodes.K), jumpTrue, jumpFalse, k);

    /// <summary>Return <paramref name="value"/>.</summary>
    public static BpfInstruction Return(uint value) => new(BpfOpcodes.Ret | BpfOpcodes.K, 0, 0, value);

    /// <summary>Whether this is a return of a constant.</summary>
    public bool IsReturnConstant => Code == (BpfOpcodes.Ret | BpfOpcodes.K);

    /// <summary>Writes the struct sock_filter bytes (little-endian, as on x86_64 and aarch64).</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, Code);
        destination[2] = JumpTrue;
        destination[3] = JumpFalse;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], K);
    }

    /// <summary>Reads one struct sock_filter.</summary>
    public static BpfInstruction ReadFrom(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt16LittleEndian(source), source[2], source[3], BinaryPrimitives.ReadUInt32LittleEndian(source[4..]));

    /// <summary>The instruction in the kernel's bpf_dbg style ("ld [4]", "jeq #0xc000003e jt 1 jf 0", "ret #0x7fff0000").</summary>
    public override string ToString()
    {
        string k = "#0x" + K.ToString("x", CultureInfo.InvariantCulture);
        var self = this;
        string JumpText(string op) => BpfOpcodes.Source(self.Code) == BpfOpcodes.X ? $"{op} x jt {self.JumpTrue} jf {self.JumpFalse}" : $"{op} {k} jt {self.JumpTrue} jf {self.JumpFalse}";
        return BpfOpcodes.Class(Code) switch
        {
            BpfOpcodes.Ld when Code == (BpfOpcodes.Ld | BpfOpcodes.W | BpfOpcodes.Abs) => $"ld [{K}]",
            BpfOpcodes.Ret when IsReturnConstant => $"ret {k}",
            BpfOpcodes.Ret => "ret a",
            BpfOpcodes.Alu when BpfOpcodes.Operation(Code) == BpfOpcodes.And => $"and {k}",
            BpfOpcodes.Jmp => BpfOpcodes.Operation(Code) switch
            {
                BpfOpcodes.Ja => $"ja +{K}",
                BpfOpcodes.Jeq => JumpText("jeq"),
                BpfOpcodes.Jgt => JumpText("jgt"),
                BpfOpcodes.Jge => JumpText("jge"),
                BpfOpcodes.Jset => JumpText("jset"),
                _ => $"code 0x{Code:x4} jt {JumpTrue} jf {JumpFalse} k {k}",
            },
            _ => $"code 0x{Code:x4} jt {JumpTrue} jf {JumpFalse} k {k}",
        };
    }
}
