using System.Diagnostics;

namespace Sandbox.Benchmarks;

/// <summary>
/// The programs every mode compares, as exact command lines: the payload itself, and the same payload
/// under util-linux <c>unshare</c> and under <c>bwrap</c> with a root comparable to Sandbox's default one.
/// </summary>
internal static class PeerCommands
{
    public const string Payload = "/bin/true";

    /// <summary><c>unshare -Urpf --mount-proc /bin/true</c>: user (mapped root), pid and mount namespaces, a fresh /proc.</summary>
    public static readonly string[] UnshareArguments = ["-Urpf", "--mount-proc", Payload];

    /// <summary>
    /// <c>bwrap --unshare-all --die-with-parent</c> on a read-only /usr, the host's merged-/usr symlinks
    /// (or read-only binds where the host has real directories), /proc, /dev and a /tmp tmpfs.
    /// </summary>
    public static IReadOnlyList<string> BwrapArguments { get; } = BuildBwrapArguments();

    public static string? UnshareExecutable { get; } = FindInPath("unshare");

    public static string? BwrapExecutable { get; } = FindInPath("bwrap");

    public static string? RuncExecutable { get; } = FindInPath("runc");

    public static string? CrunExecutable { get; } = FindInPath("crun");

    /// <summary>A judge's limits: memory (swap off), processes and CPU time.</summary>
    public static SandboxSpec WithJudgeLimits(SandboxSpec spec) => spec
        .WithMemoryLimit(64 << 20)
        .WithProcessLimit(16)
        .WithCpuTimeLimit(TimeSpan.FromSeconds(1));

    /// <summary><see cref="WithJudgeLimits"/> in words, for reports.</summary>
    public const string JudgeLimitsDescription = "memory 64 MiB (swap off), pids 16, CPU time 1 s";

    /// <summary>The limits runc and crun get too: a judge's plus a CPU quota of one CPU.</summary>
    public static SandboxSpec WithLimits(SandboxSpec spec) => WithJudgeLimits(spec).WithCpuQuota(1.0);

    /// <summary><see cref="WithLimits"/> in words, for reports.</summary>
    public const string LimitsDescription = "memory 64 MiB (swap off), pids 16, CPU time 1 s, CPU quota 1 CPU";

    /// <summary>The command as a shell would show it.</summary>
    public static string Display(string program, IEnumerable<string> arguments) =>
        string.Join(' ', [program, .. arguments]);

    /// <summary>Starts <paramref name="file"/> with <paramref name="arguments"/> through <see cref="Process.Start(ProcessStartInfo)"/>, waits, and checks it exited 0.</summary>
    public static void RunToCompletion(string file, IReadOnlyList<string> arguments)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Process.Start returned null for {file}.");
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"'{Display(file, arguments)}' exited with {process.ExitCode}.");
    }

    public static string Require(string? executable, string name, string package) =>
        executable ?? throw new InvalidOperationException(
            $"'{name}' is not installed: apt-get install {package} (benchmarks/run.sh installs it).");

    private static string[] BuildBwrapArguments()
    {
        var args = new List<string> { "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr" };
        foreach (string dir in new[] { "/bin", "/lib", "/lib64", "/sbin" })
        {
            var info = new FileInfo(dir);
            if (!info.Exists && !Directory.Exists(dir)) continue;
            if (info.LinkTarget is { } target)
                args.AddRange(["--symlink", target, dir]);
            else
                args.AddRange(["--ro-bind", dir, dir]);
        }
        args.AddRange(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", Payload]);
        return [.. args];
    }

    private static string? FindInPath(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
