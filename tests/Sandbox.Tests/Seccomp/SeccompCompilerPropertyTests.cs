using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sandbox.Seccomp;
using Sandbox.Seccomp.Bpf;

namespace Sandbox.Tests.Seccomp;

/// <summary>
/// For random policies and calls at their edges, the compiled filter run by our interpreter does exactly
/// what the policy says (evaluated directly from its rules), and the kernel would load it.
/// </summary>
public class SeccompCompilerPropertyTests
{
    internal static class Arbitraries
    {
        public static Arbitrary<PolicyCase> Cases() => SeccompGenerators.Case(SeccompGenerators.Policy).ToArbitrary();
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 300)]
    public void The_compiled_filter_does_what_the_policy_says(PolicyCase sample)
    {
        var program = sample.Policy.Compile(sample.Architecture);
        foreach (var call in sample.Calls)
        {
            var expected = sample.Policy.Evaluate(sample.Architecture, call);
            var actual = program.Evaluate(call);
            Assert.True(expected == actual,
                $"For {call}: the policy says {expected}, the filter returns {actual}.\n{program.Disassemble()}");
        }
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 300)]
    public void The_compiled_filter_is_one_the_kernel_accepts(PolicyCase sample)
    {
        var program = sample.Policy.Compile(sample.Architecture);
        var problems = BpfProgramValidator.Problems(program.Instructions.AsSpan());
        Assert.True(problems.Count == 0, string.Join("\n", problems) + "\n" + program.Disassemble());
        Assert.InRange(program.Instructions.Length, 1, BpfOpcodes.MaxInstructions);
        Assert.True(program.Instructions[^1].IsReturnConstant);
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 100)]
    public void The_filter_checks_the_architecture_before_anything_else(PolicyCase sample)
    {
        var program = sample.Policy.Compile(sample.Architecture);
        Assert.Equal(BpfInstruction.LoadWord(SeccompData.ArchOffset), program.Instructions[0]);
        Assert.Equal(BpfOpcodes.Jmp | BpfOpcodes.Jeq | BpfOpcodes.K, program.Instructions[1].Code);
        Assert.Equal((uint)sample.Architecture, program.Instructions[1].K);
        foreach (var call in sample.Calls.Where(c => c.Arch != (uint)sample.Architecture))
            Assert.Equal(SeccompAction.KillProcess, program.Evaluate(call));
    }
}
