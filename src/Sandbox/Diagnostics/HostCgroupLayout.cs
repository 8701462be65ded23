namespace Sandbox.Diagnostics;

/// <summary>How the host's cgroup hierarchies are mounted.</summary>
internal enum HostCgroupLayout
{
    /// <summary>No hierarchy with controllers is mounted.</summary>
    None,

    /// <summary>cgroup v1 only: a hierarchy per controller (or per co-mounted group), usually under /sys/fs/cgroup/NAME.</summary>
    V1,

    /// <summary>v1 controllers plus a cgroup2 mount holding the rest (systemd's hybrid mode: /sys/fs/cgroup/unified).</summary>
    Hybrid,

    /// <summary>cgroup v2 only: one hierarchy at /sys/fs/cgroup (cgroup.controllers there lists the controllers).</summary>
    V2,
}
