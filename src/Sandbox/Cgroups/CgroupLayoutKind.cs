namespace Sandbox.Cgroups;

/// <summary>How the host's cgroup hierarchies are mounted.</summary>
internal enum CgroupLayoutKind
{
    /// <summary>No cgroup file system with controllers is mounted.</summary>
    None,

    /// <summary>cgroup v1 only: one hierarchy per controller (or per group of co-mounted controllers).</summary>
    Legacy,

    /// <summary>
    /// v1 controllers plus a cgroup2 mount (systemd's hybrid mode: /sys/fs/cgroup/unified), whose hierarchy has the
    /// controllers v1 does not hold (often none). Sandboxes use the v1 controllers.
    /// </summary>
    Hybrid,

    /// <summary>cgroup v2 only: one hierarchy, controllers enabled per subtree.</summary>
    Unified,
}
