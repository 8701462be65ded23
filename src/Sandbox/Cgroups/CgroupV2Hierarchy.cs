namespace Sandbox.Cgroups;

/// <summary>The unified (v2) hierarchy as detection found it, and the parent where sandbox cgroups would go.</summary>
/// <param name="MountPoint">Where cgroup2 is mounted (e.g. /sys/fs/cgroup, or /sys/fs/cgroup/unified in hybrid mode).</param>
/// <param name="MountRoot">The cgroup mounted there (mountinfo's root field; "/" outside containers).</param>
/// <param name="OwnCgroup">This process's cgroup (the <c>0::</c> line of /proc/self/cgroup), if listed.</param>
/// <param name="OwnDirectory">The directory of <paramref name="OwnCgroup"/>, or null if it is outside the mount.</param>
/// <param name="ParentCgroup">The cgroup sandbox cgroups are created under.</param>
/// <param name="ParentDirectory">Its directory, or null if it is outside the mount.</param>
/// <param name="ParentExists">Whether the parent already exists (otherwise the driver creates it).</param>
/// <param name="AvailableControllers">The parent's cgroup.controllers: what it may enable for its children.</param>
/// <param name="EnabledControllers">The parent's cgroup.subtree_control: what its children have now.</param>
/// <param name="ParentHasProcesses">Whether the parent's cgroup.procs lists processes.</param>
/// <param name="Writable">Whether the current user may create cgroups in the parent (or its nearest existing ancestor).</param>
/// <param name="ParentIsRoot">
/// Whether the parent is the hierarchy's real root (it has no cgroup.type), the one cgroup v2 lets hold processes and
/// enable controllers at once; the root of a cgroup namespace is not.
/// </param>
/// <param name="HasKill">Whether cgroup.kill exists (Linux 5.14+).</param>
internal sealed record CgroupV2Hierarchy(
    string MountPoint,
    string MountRoot,
    string? OwnCgroup,
    string? OwnDirectory,
    string ParentCgroup,
    string? ParentDirectory,
    bool ParentExists,
    IReadOnlySet<string> AvailableControllers,
    IReadOnlySet<string> EnabledControllers,
    bool ParentHasProcesses,
    bool Writable,
    bool ParentIsRoot,
    bool HasKill);
