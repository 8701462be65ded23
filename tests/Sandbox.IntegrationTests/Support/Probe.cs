namespace Sandbox.IntegrationTests.Support;

/// <summary>The probe program (tests/probe/probe.c), bound read-only into a sandbox at <see cref="InsidePath"/>.</summary>
internal static class Probe
{
    /// <summary>Where the probe appears inside the sandbox.</summary>
    public const string InsidePath = "/probe";

    /// <summary>A sandbox that runs <c>probe ARGUMENTS</c>, with every default.</summary>
    public static SandboxSpec Command(params string[] arguments) =>
        SandboxSpec.Command(InsidePath, arguments).AddReadOnlyBind(TestBinaries.ProbePath, InsidePath);

    /// <summary>Runs <c>probe ARGUMENTS</c> with every default and returns what it printed; fails unless it succeeded.</summary>
    public static async Task<CapturedOutput> RunAsync(params string[] arguments) =>
        (await Command(arguments).RunAsync()).EnsureSuccess().StandardOutput;
}
