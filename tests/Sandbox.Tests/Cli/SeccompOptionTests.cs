using System.Text.Json;
using Sandbox.Cli;
using Sandbox.Seccomp;

namespace Sandbox.Tests.Cli;

/// <summary><c>--seccomp</c>: built-in names, Docker profile files, what is wrong with a bad one, and the seccomp fields of the result JSON.</summary>
public sealed class SeccompOptionTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("sandbox-cli-seccomp-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string WriteFile(string name, string text)
    {
        string path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    public static TheoryData<string, string> BuiltInNames => new()
    {
        { "default", "default" },
        { "Default", "default" },
        { "judge", "judge" },
        { " JUDGE ", "judge" },
        { "unconfined", "unconfined" },
    };

    [Theory]
    [MemberData(nameof(BuiltInNames))]
    public void A_built_in_name_in_any_case_is_that_policy(string text, string name)
    {
        Assert.True(SeccompOption.TryResolve(text, out var policy, out var resolved, out var problems), string.Join('\n', problems ?? []));
        Assert.Equal(name, resolved);
        Assert.Same(name switch { "default" => SeccompPolicy.Default, "judge" => SeccompPolicy.Judge, _ => SeccompPolicy.Unconfined }, policy);
    }

    [Fact]
    public void A_Docker_profile_file_is_imported_and_named_by_its_full_path()
    {
        string path = WriteFile("profile.json", """
            { "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "names": ["read", "write"], "action": "SCMP_ACT_ALLOW" },
                                                             { "names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS" } ] }
            """);

        Assert.True(SeccompOption.TryResolve(path, out var policy, out var name, out var problems), string.Join('\n', problems ?? []));
        Assert.Equal(path, name);
        Assert.Equal(SeccompActionKind.Errno, policy.DefaultAction.Kind);
        Assert.Contains(policy.Rules, r => r.Syscall == "getppid" && r.Action == SeccompAction.KillProcess);
        Assert.Contains(policy.Rules, r => r.Syscall == "read" && r.Action == SeccompAction.Allow);
    }

    [Theory]
    [InlineData("")]
    [InlineData("strict")]
    [InlineData("/no/such/profile.json")]
    public void Neither_a_built_in_name_nor_a_file_is_refused_naming_the_choices(string text)
    {
        Assert.False(SeccompOption.TryResolve(text, out _, out _, out var problems));
        var problem = Assert.Single(problems);
        Assert.Contains($"--seccomp '{text}'", problem, StringComparison.Ordinal);
        Assert.Contains("default, judge, unconfined", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_profile_reports_every_problem_with_its_JSON_path()
    {
        string path = WriteFile("bad.json", """
            { "defaultAction": "SCMP_ACT_NOPE", "syscalls": [ { "names": ["read"], "action": "SCMP_ACT_SOMETIMES" } ] }
            """);

        Assert.False(SeccompOption.TryResolve(path, out _, out _, out var problems));
        Assert.StartsWith($"--seccomp '{path}' is not a valid Docker seccomp profile", problems[0], StringComparison.Ordinal);
        Assert.Contains(problems, p => p.Contains("$.defaultAction", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("$.syscalls[0].action", StringComparison.Ordinal));
    }

    [Fact]
    public void A_file_that_is_not_JSON_is_refused()
    {
        string path = WriteFile("not.json", "defaultAction: allow");

        Assert.False(SeccompOption.TryResolve(path, out _, out _, out var problems));
        Assert.Contains(problems, p => p.Contains("not valid JSON", StringComparison.Ordinal));
    }

    public static TheoryData<SeccompViolation?, string> Violations => new()
    {
        { new SeccompViolation(110, "getppid", SeccompArchitecture.X86_64), "for the system call getppid (110)." },
        { new SeccompViolation(999, null, SeccompArchitecture.X86_64), "for system call number 999." },
        { SeccompViolation.Unknown, "the kernel log, which this host could not read" },
        { null, "the kernel log, which this host could not read" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void A_violation_is_described_with_the_call_when_known(SeccompViolation? violation, string expected)
    {
        string text = SeccompOption.DescribeViolation("judge", violation);

        Assert.StartsWith("the seccomp policy (judge) killed the program (SIGSYS)", text, StringComparison.Ordinal);
        Assert.Contains(expected, text, StringComparison.Ordinal);
    }

    private static SandboxResult Result(SandboxOutcome outcome, int? signal, SeccompPolicy? policy, SeccompViolation? violation) =>
        new SandboxResult(outcome, signal is null ? 0 : null, signal, TimeSpan.FromMilliseconds(3), CapturedOutput.None, CapturedOutput.None,
            new AppliedIsolation(SandboxNamespaces.User | SandboxNamespaces.Pid | SandboxNamespaces.Mount, true, new SandboxIdentity(1000, 1000),
                new SandboxIdentity(65534, 65534), "1000 65534 1", "1000 65534 1", NetworkIsolation.LoopbackOnly, true, true, true, false, false, true, [])
            {
                Seccomp = policy,
                SeccompInstructions = policy is null ? 0 : 123,
            })
        { SeccompViolation = violation };

    [Fact]
    public void The_result_JSON_names_the_policy_and_the_call_of_a_violation_but_not_the_rules()
    {
        var result = Result(SandboxOutcome.SeccompViolation, 31, SeccompPolicy.Judge, new SeccompViolation(110, "getppid", SeccompArchitecture.X86_64));

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(ResultJson.From(result, "judge"), ResultJson.Options));

        var root = json.RootElement;
        Assert.Equal("seccompViolation", root.GetProperty("outcome").GetString());
        Assert.Equal(31, root.GetProperty("signal").GetInt32());
        Assert.Equal("judge", root.GetProperty("seccomp").GetString());
        Assert.Equal("getppid", root.GetProperty("seccompSyscall").GetString());
        Assert.Equal(110, root.GetProperty("seccompSyscallNumber").GetInt32());
        Assert.Equal(123, root.GetProperty("isolation").GetProperty("seccompInstructions").GetInt32());
        Assert.False(root.GetProperty("isolation").TryGetProperty("seccomp", out _));
        Assert.True(root.GetProperty("isolation").TryGetProperty("uidMap", out _));
        Assert.Equal(159, result.ShellExitCode);
    }

    [Fact]
    public void Without_a_violation_the_syscall_fields_are_null()
    {
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(ResultJson.From(Result(SandboxOutcome.Ok, null, null, null), "unconfined"), ResultJson.Options));

        Assert.Equal("unconfined", json.RootElement.GetProperty("seccomp").GetString());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("seccompSyscall").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("seccompSyscallNumber").ValueKind);
    }
}
