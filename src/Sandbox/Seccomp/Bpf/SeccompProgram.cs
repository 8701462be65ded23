using System.Collections.Immutable;
using System.Text;

namespace Sandbox.Seccomp.Bpf;

/// <summary>
/// A compiled seccomp filter for one architecture: the instructions the kernel loads with
/// seccomp(SECCOMP_SET_MODE_FILTER) as a <c>struct sock_fprog</c>.
/// </summary>
/// <param name="Architecture">The architecture it admits; any other is killed.</param>
/// <param name="Instructions">The program.</param>
public sealed record SeccompProgram(SeccompArchitecture Architecture, ImmutableArray<BpfInstruction> Instructions)
{
    /// <summary>The program as the kernel takes it: an array of struct sock_filter, 8 bytes each, little-endian.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Instructions.Length * BpfInstruction.Size];
        for (int i = 0; i < Instructions.Length; i++)
            Instructions[i].WriteTo(bytes.AsSpan(i * BpfInstruction.Size));
        return bytes;
    }

    /// <summary>Reads an array of struct sock_filter (e.g. what libseccomp's seccomp_export_bpf wrote).</summary>
    public static ImmutableArray<BpfInstruction> ReadInstructions(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % BpfInstruction.Size != 0)
            throw new ArgumentException($"A BPF program is a whole number of {BpfInstruction.Size}-byte instructions; {bytes.Length} bytes are not.", nameof(bytes));
        var builder = ImmutableArray.CreateBuilder<BpfInstruction>(bytes.Length / BpfInstruction.Size);
        for (int i = 0; i < bytes.Length; i += BpfInstruction.Size)
            builder.Add(BpfInstruction.ReadFrom(bytes[i..]));
        return builder.MoveToImmutable();
    }

    /// <summary>What the filter returns for <paramref name="data"/>, run in user space.</summary>
    public SeccompAction Evaluate(in SeccompData data) => BpfInterpreter.Evaluate(Instructions.AsSpan(), data);

    /// <summary>One instruction per line, numbered.</summary>
    public string Disassemble()
    {
        var text = new StringBuilder();
        for (int i = 0; i < Instructions.Length; i++)
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i,4}: {Instructions[i]}").Append('\n');
        return text.ToString();
    }
}
