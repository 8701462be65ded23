using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sandbox.Seccomp;
using Sandbox.Seccomp.Bpf;
using Sandbox.Seccomp.Tables;

namespace Sandbox.Tests.Seccomp;

/// <summary>
/// Our compiler against libseccomp's: the same policy built with libseccomp and exported as BPF gives, run
/// through our interpreter, the same action as our filter for every generated call.
/// </summary>
/// <remarks>
/// The policies are those both semantics agree on: per syscall one unconditional rule, one rule with
/// conditions on distinct arguments (libseccomp allows one comparison per argument in a rule), or several
/// one-condition rules on the same argument that share one action (libseccomp ORs a syscall's rules; we take
/// the first that matches, which for one action is the same); no rule gives the default action (libseccomp
/// refuses those), and libseccomp knows each syscall by the same number.
/// <para>Several rules on one syscall with range comparisons or on different arguments are left out:
/// libseccomp 2.5.4 (Debian 12's) compiles some of them wrongly, merging 64-bit comparisons so that a low
/// half is compared with a high half's constant (found by this test: "arg4 &lt; 0xfffffffe00000009" or
/// "arg4 &gt;= 0xd7fd13e97fffffff" lets 0xfffffffe00000009 through; libseccomp 2.6.1 fixed "an incorrect 64-bit
/// comparison merge", GHSA-4q85-33p6-j5g6). There both filters differ while ours agrees with the policy's
/// own evaluation, which <see cref="SeccompCompilerPropertyTests"/> checks for every shape.</para>
/// </remarks>
public class LibseccompDifferentialTests
{
    private static readonly SeccompArchitecture Native = SeccompArchitectures.Native ?? throw new PlatformNotSupportedException("x86_64 or aarch64 only");

    internal static class Arbitraries
    {
        public static Arbitrary<PolicyCase> Cases()
        {
            var table = SyscallTable.For(Native);
            var shared = table.Names.Where(n => table.TryGetNumber(n, out int nr) && Libseccomp.ResolveName(n) == nr)
                .Order(StringComparer.Ordinal).ToArray();
            var gen =
                from defaultAction in LibseccompAction()
                from count in Gen.Choose(1, 12)
                from names in Gen.ArrayOf(Gen.Elements(shared), count)
                from groups in Gen.ArrayOf(SyscallRules(defaultAction), count)
                let rules = names.Distinct(StringComparer.Ordinal).Zip(groups).SelectMany(p => p.Second.Select(r => r with { Syscall = p.First }))
                let policy = new SeccompPolicy(defaultAction, rules)
                from calls in Gen.ArrayOf(SeccompGenerators.Call(Native, policy), 60)
                select new PolicyCase(Native, policy, [.. calls]);
            return gen.ToArbitrary();
        }

        /// <summary>An action other than the default (libseccomp refuses a rule that gives the default), with an errno libseccomp accepts (it refuses 4095, which the kernel allows).</summary>
        private static Gen<SeccompAction> OtherAction(SeccompAction defaultAction) =>
            LibseccompAction().Where(a => a.ReturnValue != defaultAction.ReturnValue);

        public static Gen<SeccompAction> LibseccompAction() =>
            SeccompGenerators.Action().Where(a => a.Kind != SeccompActionKind.Errno || a.Data < SeccompAction.MaxErrno);

        private static Gen<ArgumentCondition[]> DistinctArguments() =>
            from count in Gen.Choose(1, 3)
            from conditions in Gen.ArrayOf(SeccompGenerators.Condition(), count)
            select conditions.DistinctBy(c => c.Index).ToArray();

        /// <summary>The rules of one syscall (the name is filled in later).</summary>
        private static Gen<SyscallRule[]> SyscallRules(SeccompAction defaultAction) =>
            Gen.Frequency(
                (1, OtherAction(defaultAction).Select(a => new[] { new SyscallRule("", a) })),
                (2, from action in OtherAction(defaultAction)
                    from conditions in DistinctArguments()
                    select new[] { new SyscallRule("", action, [.. conditions]) }),
                (2, from action in OtherAction(defaultAction)
                    from index in Gen.Choose(0, 5)
                    from count in Gen.Choose(2, 4)
                    from op in Gen.Elements(ComparisonOperator.Equal, ComparisonOperator.MaskedEqual)
                    from conditions in Gen.ArrayOf(SeccompGenerators.Condition().Where(c => c.Operator == op), count)
                    select conditions.Select(c => new SyscallRule("", action, [c with { Index = index }])).ToArray()));
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 200)]
    public void Libseccomp_and_we_compile_a_policy_to_filters_that_agree(PolicyCase sample)
    {
        var ours = sample.Policy.Compile(Native);
        var theirs = Libseccomp.Compile(sample.Policy);
        foreach (var call in sample.Calls)
        {
            uint expected = BpfInterpreter.Run(theirs.AsSpan(), call);
            uint actual = BpfInterpreter.Run(ours.Instructions.AsSpan(), call);
            Assert.True(expected == actual,
                $"For {call}: libseccomp's filter returns {SeccompAction.FromReturnValue(expected)}, ours {SeccompAction.FromReturnValue(actual)}; the policy says {sample.Policy.Evaluate(Native, call)}.\nours:\n{ours.Disassemble()}\nlibseccomp {Libseccomp.Version}:\n{new SeccompProgram(Native, theirs).Disassemble()}");
        }
    }
}
