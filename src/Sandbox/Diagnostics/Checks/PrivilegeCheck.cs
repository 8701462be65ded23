namespace Sandbox.Diagnostics.Checks;

/// <summary>Root or rootless: which id map the sandbox gets and whether cgroups need delegation.</summary>
internal static class PrivilegeCheck
{
    public static HostCheck Run(HostFacts facts)
    {
        var log = new EvidenceLog(facts.Files);
        if (facts.Credentials is not { } c)
        {
            log.Add(ProcStatus.Path, facts.Status is null ? EvidenceLog.Absent : "(no Uid, Gid or CapEff line)");
            return log.NotOk(HostCheckNames.Privileges, HostCheckStatus.Unknown, $"{ProcStatus.Path} could not be read or parsed.",
                "Mount /proc (the sandbox needs it too): mount -t proc proc /proc.");
        }
        foreach (var field in (string[])["Uid", "Gid", "Groups", "CapEff"])
            log.Add($"{ProcStatus.Path} {field}", string.Join(' ', (ProcStatus.Field(facts.Status, field) ?? "").Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries)));

        string caps = $"CapEff {c.EffectiveCapabilities:x16}";
        if (!c.IsRoot)
            return log.Ok(HostCheckNames.Privileges,
                $"Rootless (uid {c.Uid}, gid {c.Gid}, {caps}): each sandbox maps this user to its own user; resource limits need a delegated cgroup.");

        var lacking = new (int Cap, string Name)[] { (ProcessCredentials.CapSysAdmin, "CAP_SYS_ADMIN"), (ProcessCredentials.CapSetuid, "CAP_SETUID"), (ProcessCredentials.CapSetgid, "CAP_SETGID") }
            .Where(x => !c.Has(x.Cap)).Select(x => x.Name).ToList();
        if (lacking.Count == 0)
            return log.Ok(HostCheckNames.Privileges,
                $"Root (uid 0, {caps}): sandbox users map to an unprivileged host id (nobody, 65534, by default).");
        return log.NotOk(HostCheckNames.Privileges, HostCheckStatus.Warning,
            $"Root (uid 0) without {string.Join(", ", lacking)} ({caps}; a container that dropped capabilities?): a root host's id map to nobody needs CAP_SETUID and CAP_SETGID.",
            "Run with those capabilities, or as a non-root user (then each sandbox maps that user instead).");
    }
}
