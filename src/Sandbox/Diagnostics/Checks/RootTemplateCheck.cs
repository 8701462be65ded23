namespace Sandbox.Diagnostics.Checks;

/// <summary>
/// Root templates (<see cref="RootFs.RootTemplates"/>): the fixed part of a sandbox's root — the binds of the host's
/// system directories, /etc's files, /dev — built once into a detached tree and copied into each sandbox. That needs
/// mounts attached beneath a detached tree (Linux 6.15); an older kernel still runs every sandbox, building each root in
/// full. Judged by the kernel version; the runner finds out for itself at its first launch.
/// </summary>
internal static class RootTemplateCheck
{
    public static readonly KernelVersion Since = new(6, 15);

    public static HostCheck Run(HostFacts facts)
    {
        var log = new EvidenceLog(facts.Files);
        log.Add(HostFacts.OsReleasePath, facts.Release ?? EvidenceLog.Absent);
        if (facts.Kernel is not { } version)
            return log.NotOk(HostCheckNames.RootTemplates, HostCheckStatus.Unknown,
                $"The kernel version is unknown ({HostFacts.OsReleasePath}: {facts.Release ?? "unreadable"}): whether roots come from templates is found at the first launch.",
                "Check that `uname -r` is 6.15 or later for root templates; older kernels build every root in full.");
        if (version >= Since)
            return log.Ok(HostCheckNames.RootTemplates,
                $"{facts.KernelName} attaches mounts beneath a detached tree (6.15): the fixed part of each root (the binds of /usr, /etc's " +
                "files, /dev) is built once, sealed read-only, and copied into each sandbox" +
                (facts.Credentials is { IsRoot: true } ? ", which a root host clones from inside the template's own mount namespace." : "."));
        return log.NotOk(HostCheckNames.RootTemplates, HostCheckStatus.Warning,
            $"{facts.KernelName} cannot attach mounts beneath a detached tree (Linux 6.15): each sandbox builds its whole root, about 40 " +
            "mount steps (~0.4 ms per launch on a small VM). Isolation is the same.",
            "Upgrade to Linux 6.15 or later for root templates.");
    }
}
