using Sandbox.Diagnostics.Checks;

namespace Sandbox.Diagnostics;

/// <summary>
/// What this host supports: reads /proc, /sys, /dev and /etc, runs one trivial sandbox to prove the verdict, and
/// reports each check with the evidence it rests on and, for what is missing, the fix. It creates nothing and leaves
/// nothing behind (writability is judged by permissions and by opening files, never by writing).
/// </summary>
/// <example>
/// <code>
/// var report = await HostProbe.RunAsync(cancellationToken);
/// foreach (var check in report.Checks.Where(c => !c.IsOk))
///     Console.WriteLine($"{check.Name}: {check.Finding} Fix: {check.Fix}");
/// </code>
/// </example>
public static class HostProbe
{
    /// <summary>Runs every check (see <see cref="RunAsync(CancellationToken)"/>), blocking the calling thread.</summary>
    public static HostReport Run() => RunAsync().GetAwaiter().GetResult();

    /// <summary>Runs every check, in the order of <see cref="HostCheckNames"/>, including a trial sandbox running <c>/bin/true</c>.</summary>
    /// <param name="cancellationToken">Cancelling kills the trial sandbox and throws <see cref="OperationCanceledException"/>.</param>
    public static Task<HostReport> RunAsync(CancellationToken cancellationToken = default) =>
        RunAsync(HostFiles.Instance, SandboxTrial.RunAsync, cancellationToken);

    internal static async Task<HostReport> RunAsync(
        IHostFiles files, Func<CancellationToken, Task<SandboxTrialResult>> trial, CancellationToken cancellationToken)
    {
        var facts = new HostFacts(files);
        var privileges = PrivilegeCheck.Run(facts);
        var kernel = KernelCheck.Run(facts);
        var pidfd = PidfdCheck.Run(facts);
        var userNamespaces = UserNamespaceCheck.Run(facts);
        var sandbox = await SandboxTrialCheck.RunAsync(files, trial, cancellationToken).ConfigureAwait(false);
        return new HostReport(
        [
            privileges, kernel, pidfd, userNamespaces, sandbox,
            CgroupLayoutCheck.Run(facts), CgroupDelegationCheck.Run(facts),
            OverlayCheck.Run(facts), RootTemplateCheck.Run(facts), SeccompCheck.Run(facts),
            KvmCheck.Run(facts), VirtualizationCheck.Run(facts),
        ]);
    }
}
