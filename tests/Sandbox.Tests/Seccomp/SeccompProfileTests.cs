using Sandbox.Seccomp;
using Sandbox.Seccomp.Bpf;
using Sandbox.Seccomp.Profiles;
using Sandbox.Seccomp.Tables;

namespace Sandbox.Tests.Seccomp;

/// <summary>The built-in profiles, as a table of calls and what each profile does with them, on both architectures.</summary>
public class SeccompProfileTests
{
    private const ulong CloneThreadFlags = 0x003D0F00; // what glibc's pthread_create passes: VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
    private const ulong ForkFlags = 0x01200011;        // CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD, as fork() does

    private static readonly SeccompAction Allow = SeccompAction.Allow;
    private static readonly SeccompAction Eperm = SeccompAction.Errno(LinuxErrno.EPERM);
    private static readonly SeccompAction Eacces = SeccompAction.Errno(LinuxErrno.EACCES);
    private static readonly SeccompAction Enosys = SeccompAction.Errno(LinuxErrno.ENOSYS);
    private static readonly SeccompAction Eafnosupport = SeccompAction.Errno(LinuxErrno.EAFNOSUPPORT);

    /// <summary>syscall, arg0, what Default does, what Judge does.</summary>
    public static TheoryData<string, ulong, string, string> Table => new()
    {
        { "read", 0, "Allow", "Allow" },
        { "openat", 0, "Allow", "Allow" },
        { "execve", 0, "Allow", "Allow" },
        { "exit_group", 0, "Allow", "Allow" },
        { "mmap", 0, "Allow", "Allow" },
        { "futex", 0, "Allow", "Allow" },
        { "mount", 0, "EPERM", "EPERM" },
        { "umount2", 0, "EPERM", "EPERM" },
        { "pivot_root", 0, "EPERM", "EPERM" },
        { "ptrace", 0, "EPERM", "EPERM" },
        { "process_vm_readv", 0, "EPERM", "EPERM" },
        { "keyctl", 0, "EPERM", "EPERM" },
        { "add_key", 0, "EPERM", "EPERM" },
        { "bpf", 0, "EPERM", "EPERM" },
        { "perf_event_open", 0, "EPERM", "EPERM" },
        { "userfaultfd", 0, "EPERM", "EPERM" },
        { "io_uring_setup", 0, "EPERM", "EPERM" },
        { "kexec_load", 0, "EPERM", "EPERM" },
        { "kexec_file_load", 0, "EPERM", "EPERM" },
        { "init_module", 0, "EPERM", "EPERM" },
        { "finit_module", 0, "EPERM", "EPERM" },
        { "delete_module", 0, "EPERM", "EPERM" },
        { "setns", 0, "EPERM", "EPERM" },
        { "unshare", 0x00000400 /* CLONE_FILES */, "Allow", "Allow" },
        { "unshare", 0x10000000 /* CLONE_NEWUSER */, "EPERM", "EPERM" },
        { "unshare", 0x00000080 /* CLONE_NEWTIME */, "EPERM", "EPERM" },
        { "clone", CloneThreadFlags, "Allow", "Allow" },
        { "clone", ForkFlags, "Allow", "EPERM" },
        { "clone", ForkFlags | 0x10000000 /* CLONE_NEWUSER */, "EPERM", "EPERM" },
        { "clone", CloneThreadFlags | 0x20000000 /* CLONE_NEWPID */, "EPERM", "EPERM" },
        { "clone3", 0, "ENOSYS", "ENOSYS" },
        { "socket", 1 /* AF_UNIX */, "Allow", "EACCES" },
        { "socket", 2 /* AF_INET */, "Allow", "EACCES" },
        { "socket", 38 /* AF_ALG */, "EAFNOSUPPORT", "EACCES" },
        { "socket", 0x1_0000_0026 /* AF_ALG with junk above */, "EAFNOSUPPORT", "EACCES" },
        { "socket", 40 /* AF_VSOCK */, "EAFNOSUPPORT", "EACCES" },
        { "socketpair", 1, "Allow", "EACCES" },
        { "personality", 0xFFFFFFFF /* query */, "Allow", "Allow" },
        { "personality", 0x0008, "Allow", "Allow" },
        { "personality", 0x0040000 /* ADDR_NO_RANDOMIZE */, "EPERM", "EPERM" },
        { "settimeofday", 0, "EPERM", "EPERM" },
        { "reboot", 0, "EPERM", "EPERM" },
        { "syslog", 0, "EPERM", "EPERM" },
        { "swapon", 0, "EPERM", "EPERM" },
        { "quotactl", 0, "EPERM", "EPERM" },
        { "set_mempolicy", 0, "EPERM", "EPERM" },
        { "vhangup", 0, "EPERM", "EPERM" },
        { "tuxcall", 0, "ENOSYS", "ENOSYS" },
    };

    private static SeccompAction Named(string name) => name switch
    {
        "Allow" => Allow, "EPERM" => Eperm, "EACCES" => Eacces, "ENOSYS" => Enosys, "EAFNOSUPPORT" => Eafnosupport,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void The_profiles_do_what_the_table_says_on_both_architectures(string syscall, ulong arg0, string byDefault, string byJudge)
    {
        foreach (var architecture in SeccompArchitectures.All)
        {
            if (!SyscallTable.For(architecture).TryGetNumber(syscall, out int nr))
                continue;
            var call = new SeccompData(nr, architecture, arg0);
            Assert.Equal(Named(byDefault), SeccompPolicy.Default.Compile(architecture).Evaluate(call));
            Assert.Equal(Named(byDefault), SeccompPolicy.Default.Evaluate(architecture, call));
            Assert.Equal(Named(byJudge), SeccompPolicy.Judge.Compile(architecture).Evaluate(call));
            Assert.Equal(Named(byJudge), SeccompPolicy.Judge.Evaluate(architecture, call));
        }
    }

    [Fact]
    public void Fork_and_vfork_are_refused_by_the_judge_unless_it_allows_processes()
    {
        var table = SyscallTable.X86_64;
        foreach (var name in new[] { "fork", "vfork" })
        {
            Assert.True(table.TryGetNumber(name, out int nr));
            var call = new SeccompData(nr, SeccompArchitecture.X86_64);
            Assert.Equal(Eperm, SeccompPolicy.Judge.Evaluate(SeccompArchitecture.X86_64, call));
            Assert.Equal(Allow, JudgeProfile.Create(allowNewProcesses: true).Evaluate(SeccompArchitecture.X86_64, call));
            Assert.Equal(Allow, SeccompPolicy.Default.Evaluate(SeccompArchitecture.X86_64, call));
        }
        Assert.True(table.TryGetNumber("clone", out int clone));
        Assert.Equal(Allow, JudgeProfile.Create(allowNewProcesses: true).Compile(SeccompArchitecture.X86_64).Evaluate(new SeccompData(clone, SeccompArchitecture.X86_64, ForkFlags)));
    }

    [Fact]
    public void Syscalls_the_profile_does_not_name_and_numbers_past_the_table_fail_with_ENOSYS()
    {
        foreach (var architecture in SeccompArchitectures.All)
        {
            var program = SeccompPolicy.Default.Compile(architecture);
            int past = SyscallTable.For(architecture).MaxNumber + 1;
            Assert.Equal(Enosys, program.Evaluate(new SeccompData(past, architecture)));
            Assert.Equal(Enosys, program.Evaluate(new SeccompData(1000, architecture)));
        }
    }

    [Fact]
    public void A_foreign_architecture_and_x32_numbers_kill_the_process()
    {
        var program = SeccompPolicy.Default.Compile(SeccompArchitecture.X86_64);
        Assert.Equal(SeccompAction.KillProcess, program.Evaluate(new SeccompData(0, 0x40000003u /* i386 */)));
        Assert.Equal(SeccompAction.KillProcess, program.Evaluate(new SeccompData(0, SeccompArchitecture.Aarch64)));
        Assert.Equal(SeccompAction.KillProcess, program.Evaluate(new SeccompData(0x40000000 | 0, SeccompArchitecture.X86_64)));
        Assert.Equal(SeccompAction.Allow, program.Evaluate(new SeccompData(0, SeccompArchitecture.X86_64)));
        Assert.Equal(Enosys, program.Evaluate(new SeccompData(-1, SeccompArchitecture.X86_64)));
        var arm = SeccompPolicy.Default.Compile(SeccompArchitecture.Aarch64);
        Assert.Equal(SeccompAction.KillProcess, arm.Evaluate(new SeccompData(63, SeccompArchitecture.X86_64)));
    }

    [Fact]
    public void Every_name_of_the_default_profile_is_a_syscall_somewhere_and_none_is_both_allowed_and_refused()
    {
        Assert.All(DefaultProfile.AllowedSyscalls.Concat(DefaultProfile.RefusedSyscalls), n => Assert.True(SyscallTable.IsKnownAnywhere(n), n));
        Assert.Empty(DefaultProfile.AllowedSyscalls.Intersect(DefaultProfile.RefusedSyscalls));
        Assert.Equal(DefaultProfile.AllowedSyscalls.Count, DefaultProfile.AllowedSyscalls.Distinct().Count());
    }

    [Fact]
    public void Unconfined_allows_everything_explicitly()
    {
        Assert.True(SeccompPolicy.Unconfined.IsUnconfined);
        Assert.False(SeccompPolicy.Default.IsUnconfined);
        var program = SeccompPolicy.Unconfined.Compile(SeccompArchitecture.X86_64);
        Assert.Equal(SeccompAction.Allow, program.Evaluate(new SeccompData(165 /* mount */, SeccompArchitecture.X86_64)));
    }

    [Fact]
    public void The_default_profile_decides_any_syscall_in_a_handful_of_instructions()
    {
        foreach (var architecture in SeccompArchitectures.All)
        {
            var program = SeccompPolicy.Default.Compile(architecture);
            Assert.Empty(BpfProgramValidator.Problems(program.Instructions.AsSpan()));
            int longest = 0;
            for (int nr = 0; nr <= 500; nr++)
                longest = Math.Max(longest, Executed(program, new SeccompData(nr, architecture)));
            // A linear chain would take hundreds; a binary search over ~60 ranges takes ~6 comparisons plus the preamble and an argument check.
            Assert.InRange(longest, 5, 30);
            Assert.InRange(program.Instructions.Length, 20, 300);
        }
    }

    private static int Executed(SeccompProgram program, SeccompData call)
    {
        BpfInterpreter.Run(program.Instructions.AsSpan(), call, out int executed);
        return executed;
    }
}
