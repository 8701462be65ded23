using System.Diagnostics.CodeAnalysis;
using Sandbox.Seccomp;
using Sandbox.Seccomp.Profiles;

namespace Sandbox.Cli;

/// <summary>
/// The value of <c>--seccomp</c>: a built-in policy by name (<c>default</c>, <c>judge</c>, <c>unconfined</c>, in any
/// case), or else the path of a Docker / OCI seccomp profile (JSON), imported with <see cref="DockerProfileImporter"/>
/// for this machine's architecture.
/// </summary>
internal static class SeccompOption
{
    /// <summary>What the result JSON calls the policy when <c>--seccomp</c> is not given.</summary>
    public const string DefaultName = "default";

    /// <summary>The built-in policies by the name the option takes.</summary>
    public static IReadOnlyDictionary<string, SeccompPolicy> BuiltIn { get; } = new Dictionary<string, SeccompPolicy>(StringComparer.OrdinalIgnoreCase)
    {
        [DefaultName] = SeccompPolicy.Default,
        ["judge"] = SeccompPolicy.Judge,
        ["unconfined"] = SeccompPolicy.Unconfined,
    };

    /// <summary>Resolves <paramref name="text"/> to a policy and the name the result JSON gives it (the built-in's name, or the profile's full path).</summary>
    /// <param name="text">A built-in name or a profile's path.</param>
    /// <param name="policy">The policy, when true.</param>
    /// <param name="name">The built-in's name in lower case, or the profile's full path, when true.</param>
    /// <param name="problems">What is wrong, when false: one line, or every problem of an invalid profile.</param>
    public static bool TryResolve(string text, [NotNullWhen(true)] out SeccompPolicy? policy, [NotNullWhen(true)] out string? name,
        [NotNullWhen(false)] out IReadOnlyList<string>? problems)
    {
        policy = null;
        name = null;
        problems = null;
        if (BuiltIn.TryGetValue(text.Trim(), out var builtIn))
        {
            policy = builtIn;
            name = text.Trim().ToLowerInvariant();
            return true;
        }
        if (text.Length == 0 || !File.Exists(text))
        {
            problems = [$"--seccomp '{text}' is neither default, judge, unconfined nor an existing file: name a built-in policy or a Docker seccomp profile (JSON)."];
            return false;
        }
        string path = Path.GetFullPath(text);
        try
        {
            policy = DockerProfileImporter.ImportFile(path).Policy;
            name = path;
            return true;
        }
        catch (SeccompPolicyException e)
        {
            problems = [$"--seccomp '{text}' is not a valid Docker seccomp profile:", .. e.Problems.Select(p => "  " + p)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems = [$"--seccomp '{text}' could not be read: {e.Message}"];
        }
        return false;
    }

    /// <summary>The line the CLI prints on standard error when the filter killed the program.</summary>
    public static string DescribeViolation(string policyName, SeccompViolation? violation) =>
        violation switch
        {
            { SyscallName: { } syscall, SyscallNumber: { } number } =>
                $"the seccomp policy ({policyName}) killed the program (SIGSYS) for the system call {syscall} ({number}).",
            { SyscallNumber: { } number } =>
                $"the seccomp policy ({policyName}) killed the program (SIGSYS) for system call number {number}.",
            _ => $"the seccomp policy ({policyName}) killed the program (SIGSYS); which system call it made is in the kernel log, " +
                "which this host could not read (it needs root or CAP_SYSLOG).",
        };
}
