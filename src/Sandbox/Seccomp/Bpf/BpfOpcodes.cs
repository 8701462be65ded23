namespace Sandbox.Seccomp.Bpf;

/// <summary>The classic BPF opcode parts (linux/filter.h, linux/bpf_common.h): class, size, mode, operation, source.</summary>
public static class BpfOpcodes
{
    /// <summary>BPF_LD: load into the accumulator.</summary>
    public const ushort Ld = 0x00;
    /// <summary>BPF_LDX: load into the index register.</summary>
    public const ushort Ldx = 0x01;
    /// <summary>BPF_ST: store the accumulator into scratch memory.</summary>
    public const ushort St = 0x02;
    /// <summary>BPF_STX: store the index register into scratch memory.</summary>
    public const ushort Stx = 0x03;
    /// <summary>BPF_ALU: arithmetic on the accumulator.</summary>
    public const ushort Alu = 0x04;
    /// <summary>BPF_JMP: jumps.</summary>
    public const ushort Jmp = 0x05;
    /// <summary>BPF_RET: return.</summary>
    public const ushort Ret = 0x06;
    /// <summary>BPF_MISC: register transfers.</summary>
    public const ushort Misc = 0x07;

    /// <summary>BPF_W: a 32-bit word.</summary>
    public const ushort W = 0x00;
    /// <summary>BPF_H: a 16-bit half word.</summary>
    public const ushort H = 0x08;
    /// <summary>BPF_B: a byte.</summary>
    public const ushort B = 0x10;

    /// <summary>BPF_IMM: the constant k.</summary>
    public const ushort Imm = 0x00;
    /// <summary>BPF_ABS: the data at offset k.</summary>
    public const ushort Abs = 0x20;
    /// <summary>BPF_IND: the data at offset X + k.</summary>
    public const ushort Ind = 0x40;
    /// <summary>BPF_MEM: scratch memory slot k.</summary>
    public const ushort Mem = 0x60;
    /// <summary>BPF_LEN: the data's length.</summary>
    public const ushort Len = 0x80;
    /// <summary>BPF_MSH: the IP header length trick (not allowed in seccomp).</summary>
    public const ushort Msh = 0xa0;

    /// <summary>BPF_ADD.</summary>
    public const ushort Add = 0x00;
    /// <summary>BPF_SUB.</summary>
    public const ushort Sub = 0x10;
    /// <summary>BPF_MUL.</summary>
    public const ushort Mul = 0x20;
    /// <summary>BPF_DIV.</summary>
    public const ushort Div = 0x30;
    /// <summary>BPF_OR.</summary>
    public const ushort Or = 0x40;
    /// <summary>BPF_AND.</summary>
    public const ushort And = 0x50;
    /// <summary>BPF_LSH.</summary>
    public const ushort Lsh = 0x60;
    /// <summary>BPF_RSH.</summary>
    public const ushort Rsh = 0x70;
    /// <summary>BPF_NEG.</summary>
    public const ushort Neg = 0x80;
    /// <summary>BPF_MOD.</summary>
    public const ushort Mod = 0x90;
    /// <summary>BPF_XOR.</summary>
    public const ushort Xor = 0xa0;

    /// <summary>BPF_JA: jump always, by k.</summary>
    public const ushort Ja = 0x00;
    /// <summary>BPF_JEQ.</summary>
    public const ushort Jeq = 0x10;
    /// <summary>BPF_JGT (unsigned).</summary>
    public const ushort Jgt = 0x20;
    /// <summary>BPF_JGE (unsigned).</summary>
    public const ushort Jge = 0x30;
    /// <summary>BPF_JSET: A &amp; operand != 0.</summary>
    public const ushort Jset = 0x40;

    /// <summary>BPF_K: the operand is the constant k.</summary>
    public const ushort K = 0x00;
    /// <summary>BPF_X: the operand is the index register.</summary>
    public const ushort X = 0x08;
    /// <summary>BPF_A: (BPF_RET) return the accumulator.</summary>
    public const ushort A = 0x10;

    /// <summary>BPF_TAX: X = A.</summary>
    public const ushort Tax = 0x00;
    /// <summary>BPF_TXA: A = X.</summary>
    public const ushort Txa = 0x80;

    /// <summary>BPF_MEMWORDS: the scratch memory slots.</summary>
    public const int MemoryWords = 16;

    /// <summary>BPF_MAXINSNS: the most instructions a classic program (and so a seccomp filter) may have.</summary>
    public const int MaxInstructions = 4096;

    /// <summary>The class of an opcode (BPF_CLASS).</summary>
    public static ushort Class(ushort code) => (ushort)(code & 0x07);

    /// <summary>The size of a load (BPF_SIZE).</summary>
    public static ushort Size(ushort code) => (ushort)(code & 0x18);

    /// <summary>The mode of a load (BPF_MODE).</summary>
    public static ushort Mode(ushort code) => (ushort)(code & 0xe0);

    /// <summary>The operation of an ALU or jump (BPF_OP).</summary>
    public static ushort Operation(ushort code) => (ushort)(code & 0xf0);

    /// <summary>The operand source (BPF_SRC).</summary>
    public static ushort Source(ushort code) => (ushort)(code & 0x08);

    /// <summary>The return value source (BPF_RVAL).</summary>
    public static ushort ReturnSource(ushort code) => (ushort)(code & 0x18);

    /// <summary>The misc operation (BPF_MISCOP).</summary>
    public static ushort MiscOperation(ushort code) => (ushort)(code & 0xf8);
}
