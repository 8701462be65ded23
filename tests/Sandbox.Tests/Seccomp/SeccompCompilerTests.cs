using Sandbox.Seccomp;
using Sandbox.Seccomp.Bpf;
using Sandbox.Seccomp.Profiles;
using Sandbox.Seccomp.Tables;
using Xunit.Abstractions;
using static Sandbox.Seccomp.SyscallArguments;

namespace Sandbox.Tests.Seccomp;

/// <summary>The shape of compiled filters: the preamble, the dispatch, long jumps, the bytes the kernel takes.</summary>
public class SeccompCompilerTests(ITestOutputHelper output)
{
    [Fact]
    public void A_filter_starts_by_checking_the_architecture_then_rejects_x32_numbers()
    {
        var program = SeccompPolicy.Create(SeccompAction.Errno(1)).Allow("read").Build().Compile(SeccompArchitecture.X86_64);
        output.WriteLine(program.Disassemble());
        var i = program.Instructions;
        Assert.Equal(BpfInstruction.LoadWord(SeccompData.ArchOffset), i[0]);
        Assert.Equal((ushort)(BpfOpcodes.Jmp | BpfOpcodes.Jeq), i[1].Code);
        Assert.Equal(0xC000003Eu, i[1].K);
        Assert.Equal(BpfInstruction.LoadWord(SeccompData.NrOffset), i[2]);
        Assert.Equal((ushort)(BpfOpcodes.Jmp | BpfOpcodes.Jge), i[3].Code);
        Assert.Equal(SeccompArchitectures.X32SyscallBit, i[3].K);

        var arm = SeccompPolicy.Create(SeccompAction.Errno(1)).Allow("read").Build().Compile(SeccompArchitecture.Aarch64);
        Assert.Equal(0xC00000B7u, arm.Instructions[1].K);
        Assert.DoesNotContain(arm.Instructions, x => x.K == SeccompArchitectures.X32SyscallBit);
    }

    [Fact]
    public void Adjacent_syscalls_with_the_same_action_become_one_range()
    {
        // read, write, open, close are 0..3 on x86_64: one comparison splits the space in two.
        var program = SeccompPolicy.Create(SeccompAction.Errno(1)).Allow("read", "write", "open", "close").Build().Compile(SeccompArchitecture.X86_64);
        output.WriteLine(program.Disassemble());
        Assert.Single(program.Instructions, x => x.Code == (BpfOpcodes.Jmp | BpfOpcodes.Jge) && x.K != SeccompArchitectures.X32SyscallBit);
        Assert.Equal(SeccompAction.Allow, program.Evaluate(new SeccompData(3, SeccompArchitecture.X86_64)));
        Assert.Equal(SeccompAction.Errno(1), program.Evaluate(new SeccompData(4, SeccompArchitecture.X86_64)));
    }

    [Fact]
    public void The_dispatch_is_a_balanced_search_not_a_chain()
    {
        // Every other syscall allowed: ~180 ranges on x86_64, no merging possible.
        var names = SyscallTable.X86_64.Names.Where(n => SyscallTable.X86_64.TryGetNumber(n, out int nr) && nr % 2 == 0);
        var program = SeccompPolicy.Create(SeccompAction.Errno(1)).Allow(names).Build().Compile(SeccompArchitecture.X86_64);
        int longest = 0;
        for (int nr = 0; nr < 460; nr++)
        {
            var call = new SeccompData(nr, SeccompArchitecture.X86_64);
            BpfInterpreter.Run(program.Instructions.AsSpan(), call, out int executed);
            longest = Math.Max(longest, executed);
        }
        output.WriteLine($"{program.Instructions.Length} instructions, at most {longest} run");
        Assert.InRange(longest, 1, 4 + 12 + 2); // preamble, log2(~360 ranges) comparisons and trampolines, the return
    }

    [Fact]
    public void Jumps_beyond_255_instructions_go_through_trampolines_and_still_land_right()
    {
        // One syscall with 300 conditional rules, each several instructions: the fall-through to the default is far away.
        var builder = SeccompPolicy.Create(SeccompAction.Errno(LinuxErrno.EPERM));
        for (ulong i = 0; i < 300; i++)
            builder.Add(SeccompAction.Errno((int)(i % 4000) + 2), "ioctl").When(Arg1 == (i * 0x1_0000_0001));
        builder.Allow("read").Allow("ioctl").When(Arg0 > 0xFFFF_FFFF);
        // A syscall above ioctl with conditions: the search must jump over ioctl's whole block to reach it.
        builder.Allow("getpid").When(Arg0 == 5);
        var policy = builder.Build();
        var program = policy.Compile(SeccompArchitecture.X86_64);
        output.WriteLine($"{program.Instructions.Length} instructions");
        Assert.Empty(BpfProgramValidator.Problems(program.Instructions.AsSpan()));
        Assert.Contains(program.Instructions, x => x.Code == (BpfOpcodes.Jmp | BpfOpcodes.Ja) && x.K > byte.MaxValue);

        Assert.True(SyscallTable.X86_64.TryGetNumber("ioctl", out int ioctl));
        foreach (ulong i in new ulong[] { 0, 1, 150, 299, 300 })
        {
            foreach (ulong arg0 in new ulong[] { 0, 0x1_0000_0000 })
            {
                var call = new SeccompData(ioctl, SeccompArchitecture.X86_64, arg0, i * 0x1_0000_0001);
                Assert.Equal(policy.Evaluate(SeccompArchitecture.X86_64, call), program.Evaluate(call));
            }
        }
        Assert.Equal(SeccompAction.Errno(LinuxErrno.EPERM), program.Evaluate(new SeccompData(ioctl, SeccompArchitecture.X86_64, 0, 7)));
        Assert.Equal(SeccompAction.Allow, program.Evaluate(new SeccompData(ioctl, SeccompArchitecture.X86_64, 0x1_0000_0000, 7)));
        Assert.True(SyscallTable.X86_64.TryGetNumber("getpid", out int getpid));
        Assert.Equal(SeccompAction.Allow, program.Evaluate(new SeccompData(getpid, SeccompArchitecture.X86_64, 5)));
        Assert.Equal(SeccompAction.Errno(LinuxErrno.EPERM), program.Evaluate(new SeccompData(getpid, SeccompArchitecture.X86_64, 6)));
    }

    [Fact]
    public void The_bytes_are_struct_sock_filter_in_order()
    {
        var program = SeccompPolicy.Default.Compile(SeccompArchitecture.X86_64);
        byte[] bytes = SeccompPolicy.Default.CompileToBytes(SeccompArchitecture.X86_64);
        Assert.Equal(program.Instructions.Length * 8, bytes.Length);
        Assert.Equal(new byte[] { 0x20, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00 }, bytes[..8]); // ld [4]
        Assert.Equal(program.Instructions.ToArray(), SeccompProgram.ReadInstructions(bytes).ToArray());
    }

    [Fact]
    public void The_default_profile_compiles_small()
    {
        foreach (var architecture in SeccompArchitectures.All)
        {
            var program = SeccompPolicy.Default.Compile(architecture);
            var judge = JudgeProfile.Policy.Compile(architecture);
            output.WriteLine($"{architecture.DisplayName()}: Default {program.Instructions.Length} instructions, Judge {judge.Instructions.Length}");
            output.WriteLine(program.Disassemble());
        }
    }

    [Fact]
    public void Masked_equality_compares_only_the_masked_bits_of_the_value_as_libseccomp_does()
    {
        // Found by the libseccomp differential: a value with bits outside its mask still matches on the masked bits.
        var policy = SeccompPolicy.Create(SeccompAction.Allow).Deny("read").When(Arg3.MaskedEquals(0x0, 0x22)).Build();
        var program = policy.Compile(SeccompArchitecture.X86_64);
        Assert.Equal(SeccompAction.Errno(1), program.Evaluate(new SeccompData(0, SeccompArchitecture.X86_64, 0, 0, 0, 0x1234)));
        var high = SeccompPolicy.Create(SeccompAction.Allow).Deny("read").When(Arg0.MaskedEquals(0xFF_0000_0000, 0x12_0000_00FF)).Build();
        Assert.Equal(SeccompAction.Errno(1), high.Compile(SeccompArchitecture.X86_64).Evaluate(new SeccompData(0, SeccompArchitecture.X86_64, 0x12_0000_0000)));
        Assert.Equal(SeccompAction.Allow, high.Compile(SeccompArchitecture.X86_64).Evaluate(new SeccompData(0, SeccompArchitecture.X86_64, 0x13_0000_00FF)));
    }

    [Fact]
    public void Syscall_minus_one_is_not_taken_for_an_x32_call()
    {
        // Found by the libseccomp differential: a tracer skips a syscall by setting its number to -1, and the kernel filters it again.
        var program = SeccompPolicy.Create(SeccompAction.Errno(LinuxErrno.ENOSYS)).Allow("read").Build().Compile(SeccompArchitecture.X86_64);
        Assert.Equal(SeccompAction.Errno(LinuxErrno.ENOSYS), program.Evaluate(new SeccompData(-1, SeccompArchitecture.X86_64)));
        Assert.Equal(SeccompAction.KillProcess, program.Evaluate(new SeccompData(-2, SeccompArchitecture.X86_64)));
        Assert.Equal(SeccompAction.KillProcess, program.Evaluate(new SeccompData(0x40000000, SeccompArchitecture.X86_64)));
    }
}
