using Sandbox.Seccomp;
using Sandbox.Seccomp.Bpf;
using Sandbox.Seccomp.Profiles;
using Sandbox.Seccomp.Tables;

namespace Sandbox.Tests.Seccomp;

/// <summary>Reading Docker/OCI seccomp profiles: what applies, how arguments combine, and every problem reported with its JSON path.</summary>
public class DockerProfileImporterTests
{
    private static readonly DockerProfileOptions X86 = new() { Architecture = SeccompArchitecture.X86_64 };

    private static SeccompAction Call(SeccompPolicy policy, string name, params ulong[] args)
    {
        Assert.True(SyscallTable.X86_64.TryGetNumber(name, out int nr), name);
        var data = new SeccompData(nr, SeccompArchitecture.X86_64, args);
        var compiled = policy.Compile(SeccompArchitecture.X86_64).Evaluate(data);
        Assert.Equal(policy.Evaluate(SeccompArchitecture.X86_64, data), compiled);
        return compiled;
    }

    [Fact]
    public void The_Moby_default_profile_imports_without_problems_and_reports_the_names_no_supported_architecture_has()
    {
        var imported = DockerProfileImporter.ImportFile(SeccompFixtures.MobyDefaultProfile, X86);
        Assert.Equal(SeccompAction.Errno(LinuxErrno.EPERM), imported.Policy.DefaultAction);
        Assert.Contains(imported.UnknownSyscalls, u => u.Contains("'chown32'", StringComparison.Ordinal));
        Assert.Contains(imported.UnknownSyscalls, u => u.Contains("'s390_runtime_instr'", StringComparison.Ordinal) && u.StartsWith("$.syscalls[", StringComparison.Ordinal));
        Assert.DoesNotContain(imported.UnknownSyscalls, u => u.Contains("'read'", StringComparison.Ordinal));
        Assert.Contains(imported.Notes, n => n.Contains("SCMP_ARCH_X32", StringComparison.Ordinal));
        Assert.InRange(imported.Policy.Compile(SeccompArchitecture.X86_64).Instructions.Length, 50, 400);
        Assert.InRange(imported.Policy.Compile(SeccompArchitecture.Aarch64).Instructions.Length, 50, 400);
    }

    [Fact]
    public void Capabilities_and_architectures_decide_which_entries_apply()
    {
        string json = """
            { "defaultAction": "SCMP_ACT_ERRNO",
              "syscalls": [
                { "names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["amd64"] } },
                { "names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN"] } },
                { "names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": { "caps": ["CAP_SYS_ADMIN"] },
                  "args": [ { "index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ" } ] },
                { "names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": { "minKernel": "4.8" } },
                { "names": ["getpid"], "action": "SCMP_ACT_ALLOW", "excludes": { "arches": ["amd64"] } } ] }
            """;
        var plain = DockerProfileImporter.Import(json, X86).Policy;
        Assert.Equal(SeccompAction.Allow, Call(plain, "arch_prctl"));
        Assert.Equal(SeccompAction.Errno(1), Call(plain, "mount"));
        Assert.Equal(SeccompAction.Allow, Call(plain, "clone", 0x11));
        Assert.Equal(SeccompAction.Errno(1), Call(plain, "clone", 0x10000000));
        Assert.Equal(SeccompAction.Allow, Call(plain, "ptrace"));
        Assert.Equal(SeccompAction.Errno(1), Call(plain, "getpid"));

        var admin = DockerProfileImporter.Import(json, X86 with { Capabilities = new HashSet<string> { "CAP_SYS_ADMIN" }, KernelVersion = new Version(4, 4) }).Policy;
        Assert.Equal(SeccompAction.Allow, Call(admin, "mount"));
        Assert.Equal(SeccompAction.Errno(1), Call(admin, "clone", 0x11)); // the entry is excluded for CAP_SYS_ADMIN
        Assert.Equal(SeccompAction.Errno(1), Call(admin, "ptrace"));     // 4.4 < minKernel 4.8

        var arm = DockerProfileImporter.Import(json, new DockerProfileOptions { Architecture = SeccompArchitecture.Aarch64 }).Policy;
        Assert.DoesNotContain(arm.Rules, r => r.Syscall == "arch_prctl");
        Assert.Contains(arm.Rules, r => r.Syscall == "getpid");
    }

    [Fact]
    public void Conditions_on_distinct_arguments_all_must_hold_and_two_on_one_argument_each_suffice()
    {
        string json = """
            { "defaultAction": "SCMP_ACT_KILL_PROCESS",
              "syscalls": [
                { "names": ["socket"], "action": "SCMP_ACT_ALLOW",
                  "args": [ { "index": 0, "value": 1, "op": "SCMP_CMP_EQ" }, { "index": 1, "value": 1, "op": "SCMP_CMP_EQ" } ] },
                { "names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
                  "args": [ { "index": 0, "value": 8, "op": "SCMP_CMP_EQ" }, { "index": 0, "value": 100, "op": "SCMP_CMP_GT" } ] } ] }
            """;
        var policy = DockerProfileImporter.Import(json, X86).Policy;
        Assert.Equal(SeccompAction.Allow, Call(policy, "socket", 1, 1));
        Assert.Equal(SeccompAction.KillProcess, Call(policy, "socket", 1, 2));
        Assert.Equal(SeccompAction.Errno(22), Call(policy, "personality", 8));
        Assert.Equal(SeccompAction.Errno(22), Call(policy, "personality", 101));
        Assert.Equal(SeccompAction.KillProcess, Call(policy, "personality", 50));
    }

    [Fact]
    public void Masked_equality_takes_the_mask_from_value_and_compares_with_valueTwo()
    {
        string json = """
            { "defaultAction": "SCMP_ACT_ALLOW",
              "syscalls": [ { "names": ["clone"], "action": "SCMP_ACT_ERRNO",
                  "args": [ { "index": 0, "value": 255, "valueTwo": 17, "op": "SCMP_CMP_MASKED_EQ" } ] } ] }
            """;
        var policy = DockerProfileImporter.Import(json, X86).Policy;
        Assert.Equal(SeccompAction.Errno(LinuxErrno.EPERM), Call(policy, "clone", 0x1011));
        Assert.Equal(SeccompAction.Allow, Call(policy, "clone", 0x12));
    }

    [Fact]
    public void A_bad_profile_reports_every_problem_with_its_JSON_path()
    {
        string json = """
            { "defaultAction": "SCMP_ACT_EXPLODE", "defaultErrnoRet": 70000,
              "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"],
              "syscalls": [
                { "names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [ { "index": 6, "value": 1, "op": "SCMP_CMP_EQ" } ] },
                { "names": ["write"], "action": "SCMP_ACT_ALLOW", "args": [ { "index": 0, "value": -1, "op": "SCMP_CMP_APPROX" } ] },
                { "names": ["close"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1 },
                { "names": ["open"] },
                { "action": "SCMP_ACT_ALLOW" },
                { "names": ["getpid"], "action": "SCMP_ACT_ALLOW", "includes": { "minKernel": "four" } } ] }
            """;
        var e = Assert.Throws<SeccompPolicyException>(() => DockerProfileImporter.Import(json, X86));
        string[] expected =
        [
            "$.defaultErrnoRet", "$.architectures[1]", "$.syscalls[0].args[0].index", "$.syscalls[1].args[0].value",
            "$.syscalls[1].args[0].op", "$.syscalls[2].errnoRet", "$.syscalls[3].action", "$.syscalls[4]", "$.syscalls[5].includes.minKernel",
        ];
        foreach (var path in expected)
            Assert.Contains(e.Problems, p => p.StartsWith(path + ":", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.StartsWith("$.defaultAction:", StringComparison.Ordinal) || p.StartsWith("$.defaultErrnoRet:", StringComparison.Ordinal));
        Assert.Contains("SCMP_CMP_APPROX", e.Message, StringComparison.Ordinal);
        Assert.Contains("SCMP_CMP_MASKED_EQ", e.Message, StringComparison.Ordinal); // says what to use instead
    }

    [Fact]
    public void An_unknown_action_is_reported_with_the_valid_ones()
    {
        var e = Assert.Throws<SeccompPolicyException>(() => DockerProfileImporter.Import("""{ "defaultAction": "SCMP_ACT_NOPE" }""", X86));
        Assert.Equal("$.defaultAction: unknown action 'SCMP_ACT_NOPE': use one of SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG, SCMP_ACT_NOTIFY.", Assert.Single(e.Problems));
    }

    [Fact]
    public void Invalid_JSON_is_a_problem_at_the_root()
    {
        var e = Assert.Throws<SeccompPolicyException>(() => DockerProfileImporter.Import("{ \"defaultAction\": ", X86));
        Assert.StartsWith("$: not valid JSON", Assert.Single(e.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_syscall_names_are_ignored_and_reported_or_on_request_refused()
    {
        string json = """{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "names": ["read", "raed", "frobnicate"], "action": "SCMP_ACT_ALLOW" } ] }""";
        var imported = DockerProfileImporter.Import(json, X86);
        Assert.Equal(["$.syscalls[0].names[1]: 'raed'", "$.syscalls[0].names[2]: 'frobnicate'"], imported.UnknownSyscalls);
        Assert.Equal(SeccompAction.Allow, Call(imported.Policy, "read"));

        var e = Assert.Throws<SeccompPolicyException>(() => DockerProfileImporter.Import(json, X86 with { RejectUnknownSyscalls = true }));
        Assert.Equal(2, e.Problems.Count);
        Assert.Equal("$.syscalls[0].names[1]: 'raed' is not a syscall of x86_64 or aarch64; did you mean 'read'?", e.Problems[0]);
    }

    [Fact]
    public void Rules_with_different_actions_for_one_syscall_are_noted()
    {
        string json = """
            { "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                { "names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [ { "index": 1, "value": 9, "op": "SCMP_CMP_EQ" } ] },
                { "names": ["kill"], "action": "SCMP_ACT_LOG" } ] }
            """;
        var imported = DockerProfileImporter.Import(json, X86);
        Assert.Contains(imported.Notes, n => n.Contains("'kill'", StringComparison.Ordinal) && n.Contains("first that matches", StringComparison.Ordinal));
        Assert.Equal(SeccompAction.Errno(1), Call(imported.Policy, "kill", 1, 9));
        Assert.Equal(SeccompAction.Log, Call(imported.Policy, "kill", 1, 15));
    }
}
