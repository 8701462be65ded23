namespace Sandbox.Diagnostics.Checks;

/// <summary>
/// The runner tracks each sandbox by a pidfd: clone(CLONE_PIDFD) makes it, pidfd_send_signal kills through it and
/// waitid(P_PIDFD), the newest of the three (5.4), reaps through it. Judged by the kernel version; the trial sandbox
/// uses all three.
/// </summary>
internal static class PidfdCheck
{
    public static readonly KernelVersion Minimum = new(5, 4);

    public static HostCheck Run(HostFacts facts)
    {
        var log = new EvidenceLog(facts.Files);
        log.Add(HostFacts.OsReleasePath, facts.Release ?? EvidenceLog.Absent);
        if (facts.Kernel is not { } version)
            return log.NotOk(HostCheckNames.Pidfd, HostCheckStatus.Unknown,
                $"The kernel version is unknown ({HostFacts.OsReleasePath}: {facts.Release ?? "unreadable"}).",
                "Check by hand that `uname -r` is 5.4 or later.", required: true);
        if (version >= Minimum)
            return log.Ok(HostCheckNames.Pidfd,
                $"{facts.KernelName} ≥ 5.4: clone(CLONE_PIDFD) (5.2), pidfd_open (5.3), waitid(P_PIDFD) (5.4), pidfd_send_signal (5.1).",
                required: true);
        return log.NotOk(HostCheckNames.Pidfd, HostCheckStatus.Missing,
            $"{facts.KernelName} is older than 5.4: no waitid(P_PIDFD){(version < new KernelVersion(5, 3) ? ", no pidfd_open" : "")}{(version < new KernelVersion(5, 2) ? ", no CLONE_PIDFD" : "")}.",
            "Upgrade to Linux 5.12 or later (the kernel check's minimum, which includes every pidfd call).", required: true);
    }
}
