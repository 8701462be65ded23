using Sandbox.Seccomp;
using Sandbox.Seccomp.Bpf;
using Sandbox.Seccomp.Tables;
using static Sandbox.Seccomp.SyscallArguments;

namespace Sandbox.Tests.Seccomp;

/// <summary>The fluent builder: rules in order, conditions narrowing the rules before them, every problem at once.</summary>
public class SeccompPolicyBuilderTests
{
    private static SeccompAction Call(SeccompPolicy policy, string name, params ulong[] args)
    {
        Assert.True(SyscallTable.X86_64.TryGetNumber(name, out int nr), name);
        var data = new SeccompData(nr, SeccompArchitecture.X86_64, args);
        Assert.Equal(policy.Evaluate(SeccompArchitecture.X86_64, data), policy.Compile(SeccompArchitecture.X86_64).Evaluate(data));
        return policy.Evaluate(SeccompArchitecture.X86_64, data);
    }

    [Fact]
    public void A_policy_reads_as_it_is_built()
    {
        var policy = SeccompPolicy.Create(SeccompAction.Errno(LinuxErrno.ENOSYS))
            .Allow("read", "write")
            .Allow("socket").When(Arg0 == 1)
            .Deny("mount", errno: LinuxErrno.EPERM)
            .Kill("ptrace")
            .Trap("kexec_load")
            .Log("getpid")
            .Notify("openat")
            .Build();

        Assert.Equal(SeccompAction.Allow, Call(policy, "read"));
        Assert.Equal(SeccompAction.Allow, Call(policy, "socket", 1));
        Assert.Equal(SeccompAction.Errno(LinuxErrno.ENOSYS), Call(policy, "socket", 2));
        Assert.Equal(SeccompAction.Errno(LinuxErrno.EPERM), Call(policy, "mount"));
        Assert.Equal(SeccompAction.KillProcess, Call(policy, "ptrace"));
        Assert.Equal(SeccompAction.Trap, Call(policy, "kexec_load"));
        Assert.Equal(SeccompAction.Log, Call(policy, "getpid"));
        Assert.Equal(SeccompAction.UserNotify, Call(policy, "openat"));
        Assert.Equal(SeccompAction.Errno(LinuxErrno.ENOSYS), Call(policy, "close"));
    }

    [Fact]
    public void When_narrows_every_rule_of_the_call_before_it_and_accumulates()
    {
        var policy = SeccompPolicy.Create(SeccompAction.KillProcess)
            .Allow("read", "pread64").When(Arg0 == 3).When(Arg2 <= 4096)
            .Build();
        Assert.All(policy.Rules, r => Assert.Equal(2, r.Conditions.Length));
        Assert.Equal(SeccompAction.Allow, Call(policy, "pread64", 3, 0, 4096));
        Assert.Equal(SeccompAction.KillProcess, Call(policy, "pread64", 3, 0, 4097));
        Assert.Equal(SeccompAction.KillProcess, Call(policy, "read", 4, 0, 1));
    }

    [Fact]
    public void The_first_rule_that_matches_decides()
    {
        var policy = SeccompPolicy.Create(SeccompAction.Allow)
            .Deny("kill", errno: LinuxErrno.EACCES).When(Arg1 == 9)
            .Allow("kill").When(Arg1 == 9)
            .Log("kill")
            .Build();
        Assert.Equal(SeccompAction.Errno(LinuxErrno.EACCES), Call(policy, "kill", 1, 9));
        Assert.Equal(SeccompAction.Log, Call(policy, "kill", 1, 15));
    }

    [Fact]
    public void Negative_values_compare_as_the_sign_extended_register()
    {
        var policy = SeccompPolicy.Create(SeccompAction.Allow).Deny("close").When(Arg0 == -1).Build();
        Assert.Equal(ulong.MaxValue, policy.Rules[0].Conditions[0].Value);
        Assert.Equal(SeccompAction.Errno(1), Call(policy, "close", ulong.MaxValue));
        Assert.Equal(SeccompAction.Allow, Call(policy, "close", 0xFFFFFFFF));
    }

    [Fact]
    public void Remove_forgets_what_a_built_in_profile_says_about_a_syscall()
    {
        var policy = SeccompPolicy.Default.ToBuilder().Remove("ptrace").Allow("ptrace").Build();
        Assert.Equal(SeccompAction.Allow, Call(policy, "ptrace"));
        Assert.Equal(SeccompAction.Errno(LinuxErrno.EPERM), Call(SeccompPolicy.Default, "ptrace"));
    }

    [Fact]
    public void Build_lists_every_unknown_name_and_bad_argument_with_a_suggestion()
    {
        var e = Assert.Throws<SeccompPolicyException>(() => SeccompPolicy.Create(SeccompAction.Allow)
            .Deny(["opneat", "mount", "no_such_syscall_at_all"])
            .Deny("read").When(Arg(6) == 1)
            .Build());
        Assert.Equal(3, e.Problems.Count);
        Assert.Contains(e.Problems, p => p.Contains("'opneat'", StringComparison.Ordinal) && p.Contains("did you mean 'openat'?", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Contains("'no_such_syscall_at_all'", StringComparison.Ordinal) && p.Contains("check the spelling", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.StartsWith("Rules[3] (read) condition 0", StringComparison.Ordinal) && p.Contains("argument index 6", StringComparison.Ordinal));
    }

    [Fact]
    public void When_without_a_rule_before_it_is_a_programming_error()
    {
        Assert.Throws<InvalidOperationException>(() => SeccompPolicy.Create(SeccompAction.Allow).When(Arg0 == 1));
        Assert.Throws<InvalidOperationException>(() => SeccompPolicy.Create(SeccompAction.Allow).Allow("read").Remove("read").When(Arg0 == 1));
    }

    [Fact]
    public void An_errno_outside_the_kernel_range_is_refused_where_it_is_made()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SeccompAction.Errno(4096));
        Assert.Throws<ArgumentOutOfRangeException>(() => SeccompAction.Errno(-1));
        Assert.Equal(0x00050FFFu, SeccompAction.Errno(4095).ReturnValue);
    }

    [Fact]
    public void A_name_of_another_architecture_is_skipped_where_it_does_not_exist()
    {
        var policy = SeccompPolicy.Create(SeccompAction.Errno(1)).Allow("open", "openat").Build();
        Assert.Equal(["open"], policy.SyscallsMissingOn(SeccompArchitecture.Aarch64));
        Assert.Empty(policy.SyscallsMissingOn(SeccompArchitecture.X86_64));
        var arm = policy.Compile(SeccompArchitecture.Aarch64);
        Assert.True(SyscallTable.Aarch64.TryGetNumber("openat", out int openat));
        Assert.Equal(SeccompAction.Allow, arm.Evaluate(new SeccompData(openat, SeccompArchitecture.Aarch64)));
    }

    [Fact]
    public void A_policy_too_large_for_the_kernel_is_refused_with_its_size()
    {
        var builder = SeccompPolicy.Create(SeccompAction.Errno(1));
        for (ulong i = 0; i < 1200; i++)
            builder.Allow("ioctl").When(Arg1 == i);
        var policy = builder.Build();
        var e = Assert.Throws<SeccompPolicyException>(() => policy.Compile(SeccompArchitecture.X86_64));
        Assert.Contains("over the kernel's limit of 4096", Assert.Single(e.Problems), StringComparison.Ordinal);
        Assert.Single(policy.Validate(SeccompArchitecture.X86_64));
    }

    [Fact]
    public void Conditions_describe_themselves()
    {
        Assert.Equal("arg0 == 0x1", (Arg0 == 1).ToString());
        Assert.Equal("(arg1 & 0x7e020000) == 0x0", Arg1.HasNoneOf(0x7E020000).ToString());
        Assert.Equal("socket: Allow when arg0 != 0x26 && arg2 >= 0x10", new SyscallRule("socket", SeccompAction.Allow, [Arg0 != 38, Arg2 >= 16]).ToString());
        Assert.Equal("Errno(EPERM)", SeccompAction.Errno(1).ToString());
    }
}
