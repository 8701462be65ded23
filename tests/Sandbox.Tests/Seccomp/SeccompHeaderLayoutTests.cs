using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sandbox.Seccomp;
using Sandbox.Seccomp.Bpf;

namespace Sandbox.Tests.Seccomp;

/// <summary>
/// Our BPF encoding and seccomp constants against the kernel headers, as a C compiler sees them: a program
/// including linux/seccomp.h, linux/filter.h and linux/audit.h prints the layout of struct sock_filter and
/// struct seccomp_data, the SECCOMP_RET_* values, the AUDIT_ARCH_* values, the x32 bit and the BPF opcodes.
/// </summary>
public sealed class SeccompHeaderLayoutTests : IClassFixture<SeccompHeaderLayoutTests.CompiledHeaders>
{
    private readonly CompiledHeaders _c;

    public SeccompHeaderLayoutTests(CompiledHeaders c) => _c = c;

    /// <summary>Compiles and runs the program once; its output by name.</summary>
    public sealed class CompiledHeaders
    {
        public static readonly (string Name, long Value)[] Constants =
        [
            ("SECCOMP_RET_KILL_PROCESS", SeccompAction.RetKillProcess), ("SECCOMP_RET_KILL_THREAD", SeccompAction.RetKillThread),
            ("SECCOMP_RET_TRAP", SeccompAction.RetTrap), ("SECCOMP_RET_ERRNO", SeccompAction.RetErrno),
            ("SECCOMP_RET_USER_NOTIF", SeccompAction.RetUserNotify), ("SECCOMP_RET_TRACE", SeccompAction.RetTrace),
            ("SECCOMP_RET_LOG", SeccompAction.RetLog), ("SECCOMP_RET_ALLOW", SeccompAction.RetAllow),
            ("SECCOMP_RET_ACTION_FULL", SeccompAction.ActionMask), ("SECCOMP_RET_DATA", SeccompAction.DataMask),
            ("AUDIT_ARCH_X86_64", (uint)SeccompArchitecture.X86_64), ("AUDIT_ARCH_AARCH64", (uint)SeccompArchitecture.Aarch64),
            ("__X32_SYSCALL_BIT", SeccompArchitectures.X32SyscallBit),
            ("BPF_LD", BpfOpcodes.Ld), ("BPF_LDX", BpfOpcodes.Ldx), ("BPF_ST", BpfOpcodes.St), ("BPF_STX", BpfOpcodes.Stx),
            ("BPF_ALU", BpfOpcodes.Alu), ("BPF_JMP", BpfOpcodes.Jmp), ("BPF_RET", BpfOpcodes.Ret), ("BPF_MISC", BpfOpcodes.Misc),
            ("BPF_W", BpfOpcodes.W), ("BPF_H", BpfOpcodes.H), ("BPF_B", BpfOpcodes.B),
            ("BPF_IMM", BpfOpcodes.Imm), ("BPF_ABS", BpfOpcodes.Abs), ("BPF_IND", BpfOpcodes.Ind), ("BPF_MEM", BpfOpcodes.Mem),
            ("BPF_LEN", BpfOpcodes.Len), ("BPF_MSH", BpfOpcodes.Msh),
            ("BPF_ADD", BpfOpcodes.Add), ("BPF_SUB", BpfOpcodes.Sub), ("BPF_MUL", BpfOpcodes.Mul), ("BPF_DIV", BpfOpcodes.Div),
            ("BPF_OR", BpfOpcodes.Or), ("BPF_AND", BpfOpcodes.And), ("BPF_LSH", BpfOpcodes.Lsh), ("BPF_RSH", BpfOpcodes.Rsh),
            ("BPF_NEG", BpfOpcodes.Neg), ("BPF_MOD", BpfOpcodes.Mod), ("BPF_XOR", BpfOpcodes.Xor),
            ("BPF_JA", BpfOpcodes.Ja), ("BPF_JEQ", BpfOpcodes.Jeq), ("BPF_JGT", BpfOpcodes.Jgt), ("BPF_JGE", BpfOpcodes.Jge),
            ("BPF_JSET", BpfOpcodes.Jset), ("BPF_K", BpfOpcodes.K), ("BPF_X", BpfOpcodes.X), ("BPF_A", BpfOpcodes.A),
            ("BPF_TAX", BpfOpcodes.Tax), ("BPF_TXA", BpfOpcodes.Txa), ("BPF_MEMWORDS", BpfOpcodes.MemoryWords),
            ("BPF_MAXINSNS", BpfOpcodes.MaxInstructions),
            ("sizeof(struct sock_filter)", BpfInstruction.Size), ("offsetof(struct sock_filter, code)", 0),
            ("offsetof(struct sock_filter, jt)", 2), ("offsetof(struct sock_filter, jf)", 3), ("offsetof(struct sock_filter, k)", 4),
            ("sizeof(struct seccomp_data)", SeccompData.Size), ("offsetof(struct seccomp_data, nr)", SeccompData.NrOffset),
            ("offsetof(struct seccomp_data, arch)", SeccompData.ArchOffset),
            ("offsetof(struct seccomp_data, instruction_pointer)", SeccompData.InstructionPointerOffset),
            ("offsetof(struct seccomp_data, args)", SeccompData.ArgsOffset),
            ("sizeof(((struct seccomp_data *)0)->args[0])", 8),
        ];

        public CompiledHeaders()
        {
            var work = Directory.CreateTempSubdirectory("sandbox-seccomp-layout-");
            try
            {
                var c = new StringBuilder();
                c.AppendLine("#include <stddef.h>");
                c.AppendLine("#include <stdio.h>");
                c.AppendLine("#include <linux/audit.h>");
                c.AppendLine("#include <linux/filter.h>");
                c.AppendLine("#include <linux/seccomp.h>");
                c.AppendLine("#include <asm/unistd.h>");
                c.AppendLine("#ifndef __X32_SYSCALL_BIT");
                c.AppendLine("#define __X32_SYSCALL_BIT 0x40000000"); // not defined by arm64 headers; only compared on x86_64
                c.AppendLine("#endif");
                c.AppendLine("int main(void) {");
                foreach (var (name, _) in Constants)
                    c.AppendLine(CultureInfo.InvariantCulture, $"  printf(\"%s=%lld\\n\", \"{name}\", (long long)({name}));");
                c.AppendLine("  struct sock_filter f = { BPF_JMP | BPF_JEQ | BPF_K, 1, 2, 0xC000003E };");
                c.AppendLine("  const unsigned char *b = (const unsigned char *)&f;");
                c.AppendLine("  printf(\"bytes=\"); for (size_t i = 0; i < sizeof f; i++) printf(\"%02x\", b[i]); printf(\"\\n\");");
                c.AppendLine("  return 0; }");
                string source = Path.Combine(work.FullName, "seccomp_layout.c");
                string program = Path.Combine(work.FullName, "seccomp_layout");
                File.WriteAllText(source, c.ToString());
                Run("cc", "-std=gnu11", "-Wall", "-o", program, source);
                Values = Run(program).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            }
            finally
            {
                work.Delete(recursive: true);
            }
        }

        public IReadOnlyDictionary<string, string> Values { get; }

        private static string Run(string program, params string[] args)
        {
            var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output
                : throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {output}{error.Result}\n(the kernel headers come with linux-libc-dev; test.sh installs it)");
        }
    }

    public static TheoryData<string> ConstantNames => [.. CompiledHeaders.Constants.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(ConstantNames))]
    public void Our_constant_matches_the_kernel_header(string name)
    {
        long ours = CompiledHeaders.Constants.Single(c => c.Name == name).Value;
        Assert.Equal(long.Parse(_c.Values[name], CultureInfo.InvariantCulture), ours);
    }

    [Fact]
    public void An_instruction_is_encoded_as_the_kernel_lays_out_struct_sock_filter()
    {
        var bytes = new byte[BpfInstruction.Size];
        BpfInstruction.Jump(BpfOpcodes.Jeq, 0xC000003E, 1, 2).WriteTo(bytes);
        Assert.Equal(_c.Values["bytes"], Convert.ToHexStringLower(bytes));
    }
}
