using System.Diagnostics;

namespace Sandbox.IntegrationTests.Support;

/// <summary>What a run of the CLI did.</summary>
/// <param name="ExitCode">The CLI's exit code.</param>
/// <param name="StandardOutput">Everything it printed on standard output (the sandboxed program's output).</param>
/// <param name="StandardError">Everything it printed on standard error.</param>
internal sealed record CliRun(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit code {ExitCode}; stdout: {StandardOutput.Trim()}; stderr: {StandardError.Trim()}";
}

/// <summary>
/// Runs the <c>sandbox</c> CLI as an unprivileged user (nobody, through <c>setpriv</c>), or as this root test
/// process, from the world-readable copy of the build output, with a clean environment.
/// </summary>
internal static class RootlessCli
{
    /// <summary>The unprivileged user and group the CLI runs as.</summary>
    public const uint Nobody = 65534;

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    private static readonly Lazy<string> LazyDotnet = new(FindDotnet);

    /// <summary>The dotnet host that runs the CLI.</summary>
    public static string Dotnet => LazyDotnet.Value;

    /// <summary>Runs <c>sandbox ARGUMENTS</c> and waits for it to exit.</summary>
    public static Task<CliRun> RunAsync(params IEnumerable<string> arguments) =>
        RunAssemblyAsync(TestBinaries.CliAssemblyPath, arguments);

    /// <summary>Runs <c>dotnet ASSEMBLY ARGUMENTS</c> as nobody (from the world-readable copy) and waits for it to exit.</summary>
    public static Task<CliRun> RunAssemblyAsync(string assembly, params IEnumerable<string> arguments) =>
        RunCommandAsync(LazyDotnet.Value, [assembly, .. arguments]);

    /// <summary>Runs <c>PROGRAM ARGUMENTS</c> as nobody, with a clean environment, and waits for it to exit.</summary>
    public static Task<CliRun> RunCommandAsync(string program, params IEnumerable<string> arguments) =>
        RunProcessAsync("setpriv", [$"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", program, .. arguments], standardInput: null);

    /// <summary>Runs the CLI as this (root) test process: <c>dotnet Sandbox.Cli.dll ARGUMENTS</c>, feeding it <paramref name="standardInput"/>.</summary>
    public static Task<CliRun> RunAsRootAsync(string? standardInput, params IEnumerable<string> arguments) =>
        RunProcessAsync(LazyDotnet.Value, [TestBinaries.CliAssemblyPath, .. arguments], standardInput);

    /// <summary>Runs the CLI as <see cref="RunAsRootAsync(string?, IEnumerable{string})"/> does, with <paramref name="environment"/> added to the clean environment.</summary>
    public static Task<CliRun> RunAsRootWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, string? standardInput, params IEnumerable<string> arguments) =>
        RunProcessAsync(LazyDotnet.Value, [TestBinaries.CliAssemblyPath, .. arguments], standardInput, environment);

    /// <summary>Runs <c>sandbox run OPTIONS --ro-bind PROBE:/probe -- /probe PROBE_ARGUMENTS</c> as root.</summary>
    public static Task<CliRun> RunProbeAsRootAsync(IEnumerable<string> options, params IEnumerable<string> probeArguments) =>
        RunAsRootAsync(null, ["run", .. options, "--ro-bind", $"{TestBinaries.ProbePath}:{Probe.InsidePath}", "--", Probe.InsidePath, .. probeArguments]);

    /// <summary>Starts <paramref name="fileName"/> with a clean environment, writes <paramref name="standardInput"/> (then EOF), and collects its output.</summary>
    private static async Task<CliRun> RunProcessAsync(string fileName, IEnumerable<string> arguments, string? standardInput, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (var arg in arguments)
            start.ArgumentList.Add(arg);

        string? dotnetRoot = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        start.Environment["HOME"] = "/tmp";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        if (dotnetRoot is not null) start.Environment["DOTNET_ROOT"] = dotnetRoot;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"{fileName} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
            await process.StandardInput.WriteAsync(standardInput);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(RunTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', start.ArgumentList)} did not exit within {RunTimeout}.");
        }
        return new CliRun(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs <c>sandbox run OPTIONS --ro-bind PROBE:/probe -- /probe PROBE_ARGUMENTS</c>.</summary>
    public static Task<CliRun> RunProbeAsync(IEnumerable<string> options, params IEnumerable<string> probeArguments) =>
        RunAsync(["run", .. options, "--ro-bind", $"{TestBinaries.ProbePath}:{Probe.InsidePath}", "--", Probe.InsidePath, .. probeArguments]);

    /// <summary>The dotnet host: the one running these tests, else the usual install, else PATH.</summary>
    private static string FindDotnet()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
            return hostPath;
        if (Environment.ProcessPath is { } self && Path.GetFileName(self) == "dotnet")
            return self;
        if (File.Exists("/usr/share/dotnet/dotnet"))
            return "/usr/share/dotnet/dotnet";
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "dotnet");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("The dotnet host was not found (DOTNET_HOST_PATH, /usr/share/dotnet/dotnet, PATH): the rootless tests run the CLI with it.");
    }
}
