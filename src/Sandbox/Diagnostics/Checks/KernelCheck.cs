using System.Collections.Immutable;

namespace Sandbox.Diagnostics.Checks;

/// <summary>The kernel is new enough for everything the launcher calls: Linux ≥ 5.12.</summary>
internal static class KernelCheck
{
    public static readonly KernelVersion Minimum = new(5, 12);

    /// <summary>What the launcher and runner call, oldest first; the newest sets <see cref="Minimum"/>.</summary>
    public static readonly ImmutableArray<KernelFeature> Features =
    [
        new("pidfd_send_signal", new(5, 1)),
        new("the new mount API (open_tree, move_mount)", new(5, 2)),
        new("clone(CLONE_PIDFD)", new(5, 2)),
        new("waitid(P_PIDFD)", new(5, 4)),
        new("openat2 (RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS)", new(5, 6)),
        new("close_range(CLOSE_RANGE_CLOEXEC)", new(5, 11)),
        new("mount_setattr (recursive read-only binds)", new(5, 12)),
    ];

    public static HostCheck Run(HostFacts facts)
    {
        var log = new EvidenceLog(facts.Files);
        log.Add(HostFacts.OsReleasePath, facts.Release ?? EvidenceLog.Absent);
        if (facts.Release is null)
            return log.NotOk(HostCheckNames.Kernel, HostCheckStatus.Unknown, $"{HostFacts.OsReleasePath} could not be read.",
                "Mount /proc (the sandbox needs it too): mount -t proc proc /proc.", required: true);
        if (facts.Kernel is not { } version)
            return log.NotOk(HostCheckNames.Kernel, HostCheckStatus.Unknown,
                $"The release '{facts.Release}' in {HostFacts.OsReleasePath} does not start with MAJOR.MINOR.",
                $"Check by hand that `uname -r` is {Minimum.Major}.{Minimum.Minor} or later.", required: true);

        var lacking = Features.Where(f => version < f.Since).ToList();
        if (lacking.Count == 0)
            return log.Ok(HostCheckNames.Kernel,
                $"{facts.KernelName} ≥ {Minimum.Major}.{Minimum.Minor}: openat2, the new mount API, mount_setattr, pidfds, close_range(CLOSE_RANGE_CLOEXEC).",
                required: true);
        return log.NotOk(HostCheckNames.Kernel, HostCheckStatus.Missing,
            $"{facts.KernelName} is older than {Minimum.Major}.{Minimum.Minor}; it lacks {string.Join(", ", lacking)}.",
            $"Upgrade to Linux {Minimum.Major}.{Minimum.Minor} or later (Debian 12, Ubuntu 22.04, RHEL 9 and newer ship one; on Debian 11 use bullseye-backports).",
            required: true);
    }
}
