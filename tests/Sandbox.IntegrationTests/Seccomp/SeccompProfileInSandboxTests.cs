using Sandbox.IntegrationTests.Support;
using Sandbox.Seccomp;

namespace Sandbox.IntegrationTests.Seccomp;

/// <summary>
/// The policies in a real sandbox: the probe makes each system call with arguments whose answer from the kernel
/// differs from the filter's (see <c>probe syscall</c>), so the errno says which of the two refused it.
/// </summary>
public sealed class SeccompProfileInSandboxTests
{
    /// <summary>probe's call → its errno under <see cref="SeccompPolicy.Default"/> (DefaultProfile.cs).</summary>
    public static TheoryData<string, string> RefusedByDefault => new()
    {
        { "mount", "EPERM" },
        { "umount2", "EPERM" },
        { "ptrace", "EPERM" },
        { "keyctl", "EPERM" },
        { "bpf", "EPERM" },
        { "unshare-user", "EPERM" },
        { "clone-newuser", "EPERM" },
        { "setns", "EPERM" },
        { "clone3", "ENOSYS" },
        { "socket-vsock", "EAFNOSUPPORT" },
        { "socket-alg", "EAFNOSUPPORT" },
        { "personality", "EPERM" },
        { "reboot", "EPERM" },
        { "init_module", "EPERM" },
        { "kexec_load", "EPERM" },
        { "open_by_handle_at", "EPERM" },
    };

    /// <summary>
    /// probe's call → what the kernel itself answers in a sandbox without a filter, where that answer is the same on
    /// every host and differs from the filter's: the proof that the filter, not the kernel, refused the call above.
    /// </summary>
    public static TheoryData<string, string> KernelAnswersWithoutAFilter => new()
    {
        { "mount", "EFAULT" },
        { "umount2", "EINVAL" },
        { "ptrace", "ESRCH" },
        { "keyctl", "EOPNOTSUPP" },
        { "bpf", "EINVAL" },
        { "unshare-user", "ok" },
        { "clone-newuser", "ok" },
        { "setns", "EBADF" },
        { "clone3", "EINVAL" },
        { "personality", "ok" },
    };

    /// <summary>Calls ordinary programs make, which every built-in policy allows.</summary>
    public static TheoryData<string> AllowedCalls => new() { "read", "write", "mmap", "futex" };

    /// <summary>The policies a multi-threaded program runs under.</summary>
    public static TheoryData<string> FilteringPolicies => new() { "default", "judge" };

    private static SeccompPolicy PolicyNamed(string name) => name switch
    {
        "default" => SeccompPolicy.Default,
        "judge" => SeccompPolicy.Judge,
        "unconfined" => SeccompPolicy.Unconfined,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a built-in policy"),
    };

    private static async Task<(SandboxResult Result, Dictionary<string, string> Values)> RunProbeAsync(SeccompPolicy policy, params string[] arguments)
    {
        var result = (await Probe.Command(arguments).WithSeccomp(policy).WithWallTimeLimit(TimeSpan.FromSeconds(20)).RunAsync()).EnsureSuccess();
        return (result, result.StandardOutput.Values());
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(RefusedByDefault))]
    public async Task A_refused_call_fails_with_the_errno_the_default_profile_gives_it(string call, string errno)
    {
        var (result, values) = await RunProbeAsync(SeccompPolicy.Default, "syscall", call);

        Assert.Equal(errno, values[call]);
        Assert.Same(SeccompPolicy.Default, result.Isolation.Seccomp);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_default_policy_is_on_without_asking()
    {
        var result = (await Probe.Command("syscall", "mount").RunAsync()).EnsureSuccess();

        Assert.Equal("EPERM", result.StandardOutput.Values()["mount"]);
        Assert.Same(SeccompPolicy.Default, result.Isolation.Seccomp);
        Assert.InRange(result.Isolation.SeccompInstructions, 1, 4096);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(KernelAnswersWithoutAFilter))]
    public async Task Without_a_filter_the_same_call_gets_the_kernel_own_answer(string call, string answer)
    {
        var (result, values) = await RunProbeAsync(SeccompPolicy.Unconfined, "syscall", call);

        Assert.Equal(answer, values[call]);
        Assert.Null(result.Isolation.Seccomp);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(AllowedCalls))]
    public async Task An_ordinary_call_works_under_every_built_in_policy(string call)
    {
        foreach (var policy in new[] { SeccompPolicy.Default, SeccompPolicy.Judge, SeccompPolicy.Unconfined })
        {
            var (_, values) = await RunProbeAsync(policy, "syscall", call);
            Assert.Equal("ok", values[call]);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task The_default_policy_allows_sockets_of_ordinary_families_and_new_processes()
    {
        var (_, values) = await RunProbeAsync(SeccompPolicy.Default, "syscall", "socket-unix", "socket-inet", "fork");

        Assert.Equal("ok", values["socket-unix"]);
        Assert.Equal("ok", values["socket-inet"]);
        Assert.Equal("ok", values["fork"]);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(FilteringPolicies))]
    public async Task A_multi_threaded_program_runs(string policy)
    {
        var (result, values) = await RunProbeAsync(PolicyNamed(policy), "threads", "8");

        Assert.Equal("8", values["threads"]);
        Assert.Same(PolicyNamed(policy), result.Isolation.Seccomp);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_judge_policy_refuses_sockets_and_new_processes_but_not_threads()
    {
        var (_, values) = await RunProbeAsync(SeccompPolicy.Judge, "syscall", "socket-unix", "socket-inet", "fork", "clone-newuser", "mount");
        var (_, threads) = await RunProbeAsync(SeccompPolicy.Judge, "threads", "4");

        Assert.Equal("EACCES", values["socket-unix"]);
        Assert.Equal("EACCES", values["socket-inet"]);
        Assert.Equal("EPERM", values["fork"]);
        Assert.Equal("EPERM", values["clone-newuser"]);
        Assert.Equal("EPERM", values["mount"]);
        Assert.Equal("4", threads["threads"]);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("default", "2", "1")]
    [InlineData("judge", "2", "1")]
    [InlineData("unconfined", "0", "0")]
    public async Task The_kernel_reports_one_filter_or_none(string policy, string seccompMode, string filters)
    {
        var (result, values) = await RunProbeAsync(PolicyNamed(policy), "status");

        Assert.Equal(seccompMode, values["Seccomp"]);
        Assert.Equal(filters, values["Seccomp_filters"]);
        Assert.Equal(policy != "unconfined", result.Isolation.SeccompInstructions > 0);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_shell_pipeline_of_ordinary_tools_works_under_the_default_policy()
    {
        var result = await SandboxSpec.Command("/bin/sh", "-c", "echo hello | tr a-z A-Z; ls / | grep -c . >/dev/null && grep sandbox /etc/passwd | cut -d: -f1; sort -r </etc/group | wc -l >/dev/null; date +%Y >/dev/null && echo done")
            .WithWallTimeLimit(TimeSpan.FromSeconds(20))
            .RunAsync();

        result.EnsureSuccess();
        Assert.Equal(["HELLO", "sandbox", "done"], result.StandardOutput.Lines());
        Assert.Same(SeccompPolicy.Default, result.Isolation.Seccomp);
    }
}
