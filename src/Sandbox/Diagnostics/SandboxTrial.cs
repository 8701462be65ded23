using System.Globalization;

namespace Sandbox.Diagnostics;

/// <summary>The proof: runs <c>/bin/true</c> in a default sandbox (every namespace, the default root) and reports how it went.</summary>
internal static class SandboxTrial
{
    public const string Description = "SandboxSpec.Command(\"/bin/true\").RunAsync()";

    public static readonly TimeSpan WallTimeLimit = TimeSpan.FromSeconds(10);

    public static async Task<SandboxTrialResult> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var result = await SandboxSpec.Command("/bin/true").WithWallTimeLimit(WallTimeLimit).RunAsync(cancellationToken).ConfigureAwait(false);
            string ms = result.WallTime.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture);
            string how = result.Isolation.Rootless
                ? $"rootless, uid map '{result.Isolation.UidMap}'"
                : $"as root, sandbox user mapped to host {result.Isolation.HostUser}";
            if (result.IsSuccess)
                return SandboxTrialResult.Success(
                    $"/bin/true ran in a sandbox with {NamespaceList(result.Isolation.Namespaces)} namespaces ({how}) and exited 0 in {ms} ms.");
            string ended = result.Outcome switch
            {
                SandboxOutcome.TimedOut => $"did not finish within {WallTimeLimit.TotalSeconds:0} s and was killed",
                SandboxOutcome.Signaled => $"was killed by signal {result.Signal}",
                _ => $"exited {result.ExitCode}",
            };
            return SandboxTrialResult.Failure(
                $"/bin/true started in a sandbox ({how}) but {ended}: {result.StandardError.Text.Trim()}".TrimEnd(' ', ':') + ".",
                "The sandbox starts but /bin/true fails inside it: run `sandbox run -- /bin/true` to see its output, and report it if the host's /bin/true works.");
        }
        catch (SandboxUnsupportedException e)
        {
            return SandboxTrialResult.Failure(WithoutFix(e.Message, e.HowToGetIt), e.HowToGetIt);
        }
        catch (SandboxSetupException e)
        {
            return SandboxTrialResult.Failure(WithoutFix(e.Message, e.Fix), e.Fix);
        }
        catch (SandboxException e)
        {
            return SandboxTrialResult.Failure(e.Message, "Fix what the message names, then run `sandbox doctor` again.");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return SandboxTrialResult.Failure($"{e.GetType().Name}: {e.Message}",
                "Sandbox's native parts (libsandbox_launcher.so, sandbox-init) must sit next to Sandbox.dll: rebuild with `dotnet build`.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A doctor reports whatever went wrong rather than crash on it.
            return SandboxTrialResult.Failure($"{e.GetType().Name}: {e.Message}",
                "This is not a failure Sandbox expects: report it with the output of `sandbox doctor --json`.");
        }
    }

    // "user, pid, mount, network, ipc, uts, cgroup"
    private static string NamespaceList(SandboxNamespaces namespaces) =>
        string.Join(", ", Enum.GetValues<SandboxNamespaces>()
            .Where(n => n is not (SandboxNamespaces.None or SandboxNamespaces.All) && namespaces.HasFlag(n))
            .Select(n => n.ToString().ToLowerInvariant()));

    // The exceptions' messages end with their fix; the check reports the fix on its own.
    private static string WithoutFix(string message, string fix)
    {
        if (!message.EndsWith(fix, StringComparison.Ordinal))
            return message;
        string rest = message[..^fix.Length].TrimEnd();
        return rest.EndsWith("Fix:", StringComparison.Ordinal) ? rest[..^"Fix:".Length].TrimEnd() : rest;
    }
}
