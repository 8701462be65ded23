namespace Sandbox.Diagnostics.Checks;

/// <summary>seccomp filters: the kernel supports them (a Seccomp line in /proc/self/status) and offers the actions policies use.</summary>
internal static class SeccompCheck
{
    public const string ActionsAvailable = "/proc/sys/kernel/seccomp/actions_avail";

    /// <summary>What a policy cannot do without.</summary>
    private static readonly string[] NeededActions = ["kill_process", "errno"];

    /// <summary>What some policies use: supervising syscalls from the host (5.0) and logging (4.14).</summary>
    private static readonly string[] WantedActions = ["user_notif", "log"];

    public static HostCheck Run(HostFacts facts)
    {
        var log = new EvidenceLog(facts.Files);
        if (facts.Status is null)
        {
            log.Add(ProcStatus.Path, EvidenceLog.Absent);
            return log.NotOk(HostCheckNames.Seccomp, HostCheckStatus.Unknown, $"{ProcStatus.Path} could not be read.",
                "Mount /proc (the sandbox needs it too): mount -t proc proc /proc.");
        }
        string? mode = ProcStatus.Field(facts.Status, "Seccomp");
        string? filters = ProcStatus.Field(facts.Status, "Seccomp_filters");
        log.Add($"{ProcStatus.Path} Seccomp", mode ?? EvidenceLog.Absent);
        if (mode is null)
            return log.NotOk(HostCheckNames.Seccomp, HostCheckStatus.Missing,
                $"{ProcStatus.Path} has no Seccomp line: the kernel was built without seccomp.",
                "Use a kernel built with CONFIG_SECCOMP_FILTER=y (every mainstream distribution kernel is).");
        if (filters is not null)
            log.Add($"{ProcStatus.Path} Seccomp_filters", filters);
        string state = mode switch
        {
            "0" => "this process is not filtered",
            "2" => $"this process is already filtered ({filters ?? "some"} filter(s), e.g. a container runtime's; the sandbox's filter stacks on top)",
            "1" => "this process is in strict mode",
            _ => $"mode {mode}",
        };

        string? actions = log.Read(ActionsAvailable);
        if (actions is null)
            return log.NotOk(HostCheckNames.Seccomp, HostCheckStatus.Warning,
                $"Filters are supported ({state}), but {ActionsAvailable} is absent: the kernel predates 4.14, without kill_process or log.",
                "Upgrade to Linux 5.12 or later (see the kernel check).");
        var offered = actions.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
        var lackingNeeded = NeededActions.Except(offered, StringComparer.Ordinal).ToList();
        var lackingWanted = WantedActions.Except(offered, StringComparer.Ordinal).ToList();
        if (lackingNeeded.Count > 0)
            return log.NotOk(HostCheckNames.Seccomp, HostCheckStatus.Missing,
                $"Filters are supported ({state}), but the kernel lacks the action(s) {string.Join(", ", lackingNeeded)} (actions_avail: {actions}).",
                "Upgrade to Linux 5.12 or later (see the kernel check).");
        if (lackingWanted.Count > 0)
            return log.NotOk(HostCheckNames.Seccomp, HostCheckStatus.Warning,
                $"Filters are supported ({state}); the kernel lacks {string.Join(", ", lackingWanted)} (actions_avail: {actions}).",
                "Upgrade to Linux 5.12 or later for user_notif (5.0) and log (4.14).");
        return log.Ok(HostCheckNames.Seccomp, $"Filters are supported ({state}); actions: {actions}.");
    }
}
