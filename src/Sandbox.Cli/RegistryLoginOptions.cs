using System.CommandLine;
using Sandbox.Images.Registry;

namespace Sandbox.Cli;

/// <summary>
/// The credentials pull and push use for the registry they talk to: <c>--username NAME</c> with the password (or
/// token) on standard input (<c>--password-stdin</c>), else the <c>SANDBOX_REGISTRY_USERNAME</c> and
/// <c>SANDBOX_REGISTRY_PASSWORD</c> environment variables, else none (anonymous). The options win over the
/// environment; the password is never taken from the command line, where other users could read it.
/// </summary>
internal static class RegistryLoginOptions
{
    public const string UsernameVariable = "SANDBOX_REGISTRY_USERNAME";
    public const string PasswordVariable = "SANDBOX_REGISTRY_PASSWORD";

    public static Option<string?> CreateUsernameOption() => new("--username", "-u")
    {
        Description = $"The registry user name; the password (or token) is read from standard input with --password-stdin. " +
            $"Without it: ${UsernameVariable} and ${PasswordVariable}, else anonymous. The options win over the environment.",
    };

    public static Option<string[]> CreateInsecureRegistryOption() => new("--insecure-registry")
    {
        Description = "Reach this registry (host[:port]) over plain HTTP (repeatable).",
    };

    /// <summary>The client options for talking to <paramref name="registry"/>: the insecure registries, and the credentials if any.</summary>
    public static RegistryClientOptions ClientOptions(IEnumerable<string> insecureRegistries, string registry, RegistryCredentials? credentials)
    {
        var options = new RegistryClientOptions();
        foreach (string host in insecureRegistries) options = options.WithInsecureRegistry(host);
        return credentials is null ? options : options.WithCredentials(registry, credentials);
    }

    /// <summary>Writes each problem with the command's name on standard error; the usage exit code.</summary>
    public static int ReportUsage(string command, IEnumerable<string> problems)
    {
        foreach (string problem in problems) Console.Error.WriteLine($"sandbox {command}: {problem}");
        return ExitCodes.Usage;
    }

    public static Option<bool> CreatePasswordStdinOption() => new("--password-stdin")
    {
        Description = "Read the registry password (or token) for --username from standard input (one line; the trailing newline is dropped).",
    };

    /// <summary>
    /// The credentials to use, or null for anonymous; false with the problem when the options or the environment are
    /// half given. <paramref name="readStandardInput"/> is called only when <c>--password-stdin</c> is given.
    /// </summary>
    public static bool TryResolve(string? username, bool passwordStdin, Func<string?> readStandardInput, string? environmentUsername, string? environmentPassword,
        out RegistryCredentials? credentials, out string problem)
    {
        credentials = null;
        problem = "";
        if (!string.IsNullOrEmpty(username) || passwordStdin)
        {
            if (string.IsNullOrEmpty(username))
            {
                problem = "--password-stdin needs --username: give the user name the password is for.";
                return false;
            }
            if (!passwordStdin)
            {
                problem = "--username needs --password-stdin: pipe the password (or token) in, e.g. 'cat token | sandbox push … --username me --password-stdin'.";
                return false;
            }
            string password = (readStandardInput() ?? "").TrimEnd('\n', '\r');
            if (password.Length == 0)
            {
                problem = "--password-stdin read an empty password: pipe the password (or token) into standard input.";
                return false;
            }
            credentials = new RegistryCredentials(username, password);
            return true;
        }
        bool hasUser = !string.IsNullOrEmpty(environmentUsername), hasPassword = !string.IsNullOrEmpty(environmentPassword);
        if (hasUser != hasPassword)
        {
            problem = $"${(hasUser ? UsernameVariable : PasswordVariable)} is set but ${(hasUser ? PasswordVariable : UsernameVariable)} is not: set both, or neither.";
            return false;
        }
        if (hasUser) credentials = new RegistryCredentials(environmentUsername!, environmentPassword!);
        return true;
    }

    /// <summary>Reads the credentials from the parsed options and this process's environment and standard input.</summary>
    public static bool TryResolve(ParseResult parse, Option<string?> username, Option<bool> passwordStdin, out RegistryCredentials? credentials, out string problem) =>
        TryResolve(parse.GetValue(username), parse.GetValue(passwordStdin), () => Console.In.ReadLine(),
            Environment.GetEnvironmentVariable(UsernameVariable), Environment.GetEnvironmentVariable(PasswordVariable), out credentials, out problem);
}
