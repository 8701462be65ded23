using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class ValidationTests
{
    /// <summary>What is wrong with the spec → a fragment of the problem reported.</summary>
    public static TheoryData<string, string> Problems => new()
    {
        { "an empty program", "Program is empty" },
        { "a relative working directory", "WorkingDirectory 'work'" },
        { "a hostname with a space", "Hostname 'two words' is invalid" },
        { "a bind target inside /proc", "inside /proc or /dev" },
        { "the same mount target twice", "used twice" },
        { "a negative output limit", "OutputLimitBytes -1" },
        { "no PID namespace", "Namespaces lack Pid" },
        { "an environment variable name with '='", "Environment variable name 'A=B' is invalid" },
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Problems))]
    public async Task An_invalid_spec_is_refused_with_the_problem_named(string problem, string reported)
    {
        var spec = Invalid(problem);

        var e = await Assert.ThrowsAsync<SandboxValidationException>(() => spec.RunAsync());

        var only = Assert.Single(e.Problems);
        Assert.Contains(reported, only, StringComparison.Ordinal);
        Assert.Contains(reported, e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Every_problem_is_reported_at_once_by_both_run_and_start()
    {
        var spec = SandboxSpec.Command("")
            .WithHostname("two words")
            .WithWorkingDirectory("work")
            .WithOutputLimit(-1);

        var fromRun = await Assert.ThrowsAsync<SandboxValidationException>(() => spec.RunAsync());
        var fromStart = await Assert.ThrowsAsync<SandboxValidationException>(() => spec.StartAsync());

        Assert.Equal(4, fromRun.Problems.Count);
        Assert.Equal(fromRun.Problems, fromStart.Problems);
    }

    private static SandboxSpec Invalid(string problem) => problem switch
    {
        "an empty program" => SandboxSpec.Command(""),
        "a relative working directory" => Probe.Command("exit", "0").WithWorkingDirectory("work"),
        "a hostname with a space" => Probe.Command("exit", "0").WithHostname("two words"),
        "a bind target inside /proc" => Probe.Command("exit", "0").AddTmpfs("/proc/mine"),
        "the same mount target twice" => Probe.Command("exit", "0").AddTmpfs("/data").AddTmpfs("/data"),
        "a negative output limit" => Probe.Command("exit", "0").WithOutputLimit(-1),
        "no PID namespace" => Probe.Command("exit", "0").WithoutNamespaces(SandboxNamespaces.Pid),
        "an environment variable name with '='" => Probe.Command("exit", "0").WithEnvironmentVariable("A=B", "c"),
        _ => throw new ArgumentOutOfRangeException(nameof(problem), problem, "no such case"),
    };
}
