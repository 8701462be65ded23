namespace Sandbox.Diagnostics.Checks;

/// <summary>
/// overlayfs (image layers): the kernel lists it, and lets a user namespace mount it (since 5.11); for root, whether its
/// own store's layers can be idmapped into a sandbox's user namespace (overlayfs layers given as fds, since 6.13).
/// </summary>
internal static class OverlayCheck
{
    public const string FileSystems = "/proc/filesystems";
    public const string Module = "/sys/module/overlay";
    public static readonly KernelVersion UnprivilegedSince = new(5, 11);
    public static readonly KernelVersion IdmappedLayersSince = new(6, 13);

    public static HostCheck Run(HostFacts facts)
    {
        var log = new EvidenceLog(facts.Files);
        string? list = facts.Files.TryReadText(FileSystems);
        if (list is null)
        {
            log.Add(FileSystems, EvidenceLog.Absent);
            return log.NotOk(HostCheckNames.Overlayfs, HostCheckStatus.Unknown, $"{FileSystems} could not be read.",
                "Mount /proc (the sandbox needs it too): mount -t proc proc /proc.");
        }
        // Lines are "nodev\toverlay" or "\text4": the name is the last field.
        bool listed = list.Split('\n').Any(line => line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries).LastOrDefault() == "overlay");
        log.Add(FileSystems, listed ? "lists overlay" : "does not list overlay");
        if (!listed)
        {
            bool module = log.Exists(Module);
            return log.NotOk(HostCheckNames.Overlayfs, HostCheckStatus.Missing,
                module ? $"overlay is not in {FileSystems}, though {Module} exists." : $"overlay is not in {FileSystems}: the module is not loaded.",
                "Load it: modprobe overlay (keep it: echo overlay > /etc/modules-load.d/overlay.conf); the kernel needs CONFIG_OVERLAY_FS.");
        }
        if (facts.Kernel is not { } version)
            return log.NotOk(HostCheckNames.Overlayfs, HostCheckStatus.Warning,
                $"overlay is in {FileSystems}; whether a user namespace may mount it depends on the kernel version, which is unknown.",
                "Check that `uname -r` is 5.11 or later: overlay mounts inside a user namespace are available since 5.11.");
        if (version >= UnprivilegedSince && facts.Credentials is { IsRoot: true } && version < IdmappedLayersSince)
            return log.NotOk(HostCheckNames.Overlayfs, HostCheckStatus.Warning,
                $"overlay is in {FileSystems} and {facts.KernelName} lets a user namespace mount it (available since 5.11), but not over " +
                "root's image layers idmapped into the sandbox's user namespace (layers given to overlayfs as fds: Linux 6.13): images from " +
                "root's store fail to start with the user namespace on.",
                "Upgrade to Linux 6.13 or later; meanwhile run root's images with .WithoutNamespaces(SandboxNamespaces.User) (capabilities are " +
                "still dropped and no_new_privs set), or import them into a store of an unprivileged user and run them from there.");
        if (version >= UnprivilegedSince)
            return log.Ok(HostCheckNames.Overlayfs,
                $"overlay is in {FileSystems} and {facts.KernelName} lets a user namespace mount it (available since 5.11)" +
                (facts.Credentials is { IsRoot: true } ? ", over root's image layers idmapped into it too (6.13)." : "."));
        return log.NotOk(HostCheckNames.Overlayfs, HostCheckStatus.Warning,
            $"overlay is in {FileSystems}, but {facts.KernelName} mounts it only for root outside a user namespace (unprivileged overlay is available since 5.11).",
            "Upgrade to Linux 5.11 or later for layered roots in rootless sandboxes (Ubuntu kernels allowed it earlier).");
    }
}
