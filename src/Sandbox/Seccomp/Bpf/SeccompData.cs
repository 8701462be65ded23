using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;

namespace Sandbox.Seccomp.Bpf;

/// <summary>
/// What a seccomp filter sees of a syscall: the kernel's <c>struct seccomp_data</c> (64 bytes: int nr at 0,
/// __u32 arch at 4, __u64 instruction_pointer at 8, __u64 args[6] at 16), in the byte order of the supported
/// architectures (little-endian).
/// </summary>
public readonly record struct SeccompData
{
    /// <summary>sizeof(struct seccomp_data).</summary>
    public const int Size = 64;

    /// <summary>offsetof(struct seccomp_data, nr).</summary>
    public const uint NrOffset = 0;

    /// <summary>offsetof(struct seccomp_data, arch).</summary>
    public const uint ArchOffset = 4;

    /// <summary>offsetof(struct seccomp_data, instruction_pointer).</summary>
    public const uint InstructionPointerOffset = 8;

    /// <summary>offsetof(struct seccomp_data, args).</summary>
    public const uint ArgsOffset = 16;

    private readonly ImmutableArray<ulong> _arguments;

    /// <summary>A syscall with these arguments (missing ones are 0).</summary>
    public SeccompData(int nr, uint arch, ulong instructionPointer = 0, params ReadOnlySpan<ulong> arguments)
    {
        if (arguments.Length > ArgumentCondition.ArgumentCount)
            throw new ArgumentException($"A syscall has at most {ArgumentCondition.ArgumentCount} arguments; {arguments.Length} were given.", nameof(arguments));
        var args = new ulong[ArgumentCondition.ArgumentCount];
        arguments.CopyTo(args);
        Nr = nr;
        Arch = arch;
        InstructionPointer = instructionPointer;
        _arguments = ImmutableArray.Create(args);
    }

    /// <summary>A syscall of <paramref name="architecture"/>.</summary>
    public SeccompData(int nr, SeccompArchitecture architecture, params ReadOnlySpan<ulong> arguments)
        : this(nr, (uint)architecture, 0, arguments)
    {
    }

    /// <summary>The syscall number (negative values and, on x86_64, x32 numbers included).</summary>
    public int Nr { get; }

    /// <summary>The AUDIT_ARCH_* value of the calling convention.</summary>
    public uint Arch { get; }

    /// <summary>Where the syscall was made.</summary>
    public ulong InstructionPointer { get; }

    /// <summary>The six arguments, whole registers.</summary>
    public ImmutableArray<ulong> Arguments => _arguments.IsDefault ? [0, 0, 0, 0, 0, 0] : _arguments;

    /// <summary>The same call with another argument <paramref name="index"/>.</summary>
    public SeccompData WithArgument(int index, ulong value)
    {
        var args = Arguments.ToArray();
        args[index] = value;
        return new SeccompData(Nr, Arch, InstructionPointer, args);
    }

    /// <summary>The 32-bit word at <paramref name="offset"/> as a BPF_LD|BPF_W|BPF_ABS load reads it, or null when the kernel would reject the load (unaligned or outside the struct).</summary>
    public uint? ReadWord(uint offset)
    {
        if (offset % 4 != 0 || offset > Size - 4)
            return null;
        Span<byte> bytes = stackalloc byte[Size];
        WriteTo(bytes);
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes[(int)offset..]);
    }

    /// <summary>The struct's bytes.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, Nr);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[(int)ArchOffset..], Arch);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[(int)InstructionPointerOffset..], InstructionPointer);
        var args = Arguments;
        for (int i = 0; i < ArgumentCondition.ArgumentCount; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(destination[((int)ArgsOffset + (8 * i))..], args[i]);
    }

    /// <summary>"nr=41 arch=0xc000003e args=[0x1, 0x0, ...]".</summary>
    public override string ToString() =>
        $"nr={Nr.ToString(CultureInfo.InvariantCulture)} arch=0x{Arch:x8} ip=0x{InstructionPointer:x} args=[{string.Join(", ", Arguments.Select(a => "0x" + a.ToString("x", CultureInfo.InvariantCulture)))}]";
}
