namespace Sandbox.Diagnostics;

/// <summary>The names of the checks <see cref="HostProbe"/> runs, in the order it reports them.</summary>
public static class HostCheckNames
{
    /// <summary>Root or rootless, and the effective capabilities.</summary>
    public const string Privileges = "privileges";

    /// <summary>Linux ≥ 5.12: openat2, the new mount API, mount_setattr, pidfds, close_range(CLOSE_RANGE_CLOEXEC).</summary>
    public const string Kernel = "kernel";

    /// <summary>pidfds: the runner tracks each sandbox by one (clone(CLONE_PIDFD), waitid(P_PIDFD), pidfd_send_signal).</summary>
    public const string Pidfd = "pidfd";

    /// <summary>The sysctls that allow (or forbid) creating user namespaces and the other namespaces a sandbox gets.</summary>
    public const string UserNamespaces = "user namespaces";

    /// <summary>A trivial sandbox (<c>/bin/true</c> with every namespace) actually ran.</summary>
    public const string Sandbox = "sandbox";

    /// <summary>The cgroup layout (v2 unified, v1, or hybrid) and the controllers each hierarchy offers.</summary>
    public const string Cgroups = "cgroups";

    /// <summary>Whether this user may create a child cgroup under its own cgroup (needed for resource limits).</summary>
    public const string CgroupDelegation = "cgroup delegation";

    /// <summary>overlayfs: listed by the kernel and mountable inside a user namespace.</summary>
    public const string Overlayfs = "overlayfs";

    /// <summary>Root templates: the fixed part of each root built once and copied into each sandbox (Linux 6.15).</summary>
    public const string RootTemplates = "root templates";

    /// <summary>seccomp filters and the actions the kernel offers.</summary>
    public const string Seccomp = "seccomp";

    /// <summary>/dev/kvm exists and this user can open it read-write (the micro-VM backend).</summary>
    public const string Kvm = "kvm";

    /// <summary>What kind of virtualization backs /dev/kvm: hardware (vmx, svm) or something else (e.g. PVM).</summary>
    public const string Virtualization = "virtualization";
}
