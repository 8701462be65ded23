using Sandbox.RootFs;

namespace Sandbox;

public sealed partial record SandboxSpec
{
    /// <summary>Every problem with this specification on a host that is (or is not) root; empty when valid.</summary>
    /// <param name="hostIsRoot">Whether the host process runs with euid 0.</param>
    public IReadOnlyList<string> Validate(bool hostIsRoot)
    {
        var problems = new List<string>();
        void Check(bool ok, string problem)
        {
            if (!ok) problems.Add(problem);
        }

        var malformed = new[] { Program, WorkingDirectory, Hostname }
            .Concat(Arguments.IsDefault ? [] : Arguments)
            .Concat(Environment.SelectMany(kv => new[] { kv.Key, kv.Value }))
            .Concat(Mounts.SelectMany(m => m is BindMount b ? new[] { b.Source, b.Target } : new[] { m.Target }))
            .FirstOrDefault(HasLoneSurrogate);
        Check(malformed is null, $"'{malformed}' contains an unpaired UTF-16 surrogate, which has no UTF-8 form: pass well-formed text.");
        Check(!string.IsNullOrEmpty(Program), "Program is empty: name the program to run, e.g. SandboxSpec.Command(\"/bin/sh\", \"-c\", \"...\").");
        Check(Program is null || !Program.Contains('\0', StringComparison.Ordinal), "Program contains a NUL character.");
        Check(Arguments.All(a => a is not null && !a.Contains('\0', StringComparison.Ordinal)), "An argument is null or contains a NUL character.");
        foreach (var (name, value) in Environment)
        {
            Check(name.Length > 0 && !name.Contains('=', StringComparison.Ordinal) && !name.Contains('\0', StringComparison.Ordinal),
                $"Environment variable name '{name}' is invalid: it must be non-empty and contain neither '=' nor NUL.");
            Check(value is not null && !value.Contains('\0', StringComparison.Ordinal), $"Environment variable '{name}' has a null value or contains NUL.");
        }

        var ns = Namespaces;
        Check(ns.HasFlag(SandboxNamespaces.Pid),
            "Namespaces lack Pid: the sandbox's init must be PID 1 of its own PID namespace so that killing it kills every process of the sandbox. Keep SandboxNamespaces.Pid.");
        Check(ns.HasFlag(SandboxNamespaces.Mount),
            "Namespaces lack Mount: the sandbox's root file system is built in its own mount namespace. Keep SandboxNamespaces.Mount.");
        Check(hostIsRoot || ns.HasFlag(SandboxNamespaces.User),
            "Namespaces lack User, but the host is not root: an unprivileged host can only sandbox through a user namespace. Keep SandboxNamespaces.User or run the host as root.");
        Check(ns.HasFlag(SandboxNamespaces.Uts) || Hostname == "sandbox",
            $"Hostname '{Hostname}' needs the UTS namespace: keep SandboxNamespaces.Uts or leave the hostname alone.");
        Check(!string.IsNullOrEmpty(Hostname) && Hostname.Length <= 64 && Hostname.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.'),
            $"Hostname '{Hostname}' is invalid: use 1 to 64 characters of letters, digits, '-' and '.'.");

        Check(SandboxPath.Problem(WorkingDirectory, mustBeAbsolute: true) is null,
            $"WorkingDirectory '{WorkingDirectory}' {SandboxPath.Problem(WorkingDirectory, true)}.");
        Check(TmpSizeBytes >= 4096, $"TmpSizeBytes {TmpSizeBytes} is too small: give /tmp at least 4096 bytes.");
        Check(OutputLimitBytes >= 0, $"OutputLimitBytes {OutputLimitBytes} is negative: use 0 to keep nothing.");
        Check(WallTimeLimit is null || WallTimeLimit > TimeSpan.Zero, $"WallTimeLimit {WallTimeLimit} must be positive (or null for none).");
        Check(SetupTimeout > TimeSpan.Zero && SetupTimeout.TotalMilliseconds < uint.MaxValue, $"SetupTimeout {SetupTimeout} must be positive.");
        Check(OpenFilesLimit >= 3, $"OpenFilesLimit {OpenFilesLimit} leaves no room for stdin, stdout and stderr: use at least 3.");
        Check(User.Uid != uint.MaxValue && User.Gid != uint.MaxValue, $"User {User} is not a valid id pair.");
        Check(!hostIsRoot || (HostIdentity.Uid != uint.MaxValue && HostIdentity.Gid != uint.MaxValue), $"HostIdentity {HostIdentity} is not a valid id pair.");
        Check(!(InheritStandardStreams && StandardInput is not null), "StandardInput is set together with inherited standard streams: choose one.");

        ValidateLimits(problems);
        ValidateStreams(problems);
        ValidateSeccomp(problems);
        ValidateImage(problems, hostIsRoot);

        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var mount in Mounts)
        {
            string kind = mount is BindMount ? "Bind" : "Tmpfs";
            if (SandboxPath.Problem(mount.Target, mustBeAbsolute: true) is { } targetProblem)
            {
                problems.Add($"{kind} target '{mount.Target}' {targetProblem}.");
                continue;
            }
            string target = SandboxPath.Normalize(mount.Target);
            Check(target != "/", $"{kind} target '{mount.Target}' is the root: mount beneath it (e.g. /data) instead.");
            Check(!SandboxPath.IsWithin(target, "/proc") && !SandboxPath.IsWithin(target, "/dev"),
                $"{kind} target '{mount.Target}' is inside /proc or /dev, which the sandbox manages: choose another path.");
            Check(targets.Add(target), $"{kind} target '{mount.Target}' is used twice: give each mount its own target.");
            switch (mount)
            {
                case BindMount bind:
                    Check(SandboxPath.Problem(bind.Source, mustBeAbsolute: true) is null,
                        $"Bind source '{bind.Source}' {SandboxPath.Problem(bind.Source, true)}.");
                    break;
                case TmpfsMount tmpfs:
                    Check(tmpfs.SizeBytes >= 4096, $"Tmpfs at '{tmpfs.Target}' has size {tmpfs.SizeBytes}: give it at least 4096 bytes.");
                    break;
            }
        }
        return problems;
    }

    private static bool HasLoneSurrogate(string? s)
    {
        if (s is null) return false;
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            else if (char.IsSurrogate(s[i])) return true;
        }
        return false;
    }
}
