namespace Sandbox.Diagnostics.Checks;

/// <summary>The verdict of the trial sandbox: the one check that proves the others right.</summary>
internal static class SandboxTrialCheck
{
    public static async Task<HostCheck> RunAsync(IHostFiles files, Func<CancellationToken, Task<SandboxTrialResult>> trial, CancellationToken cancellationToken)
    {
        var result = await trial(cancellationToken).ConfigureAwait(false);
        var log = new EvidenceLog(files);
        log.Add(SandboxTrial.Description, result.Succeeded ? "succeeded" : "failed");
        return result.Succeeded
            ? log.Ok(HostCheckNames.Sandbox, result.What, required: true)
            : log.NotOk(HostCheckNames.Sandbox, HostCheckStatus.Missing, result.What, result.Fix ?? "See the message.", required: true);
    }
}
