namespace Sandbox.Cgroups;

/// <summary>One v1 hierarchy (a controller, or controllers mounted together such as cpu,cpuacct) as detection found it.</summary>
/// <param name="Controllers">The controllers bound to it (from the mount's super options).</param>
/// <param name="MountPoint">Where it is mounted, e.g. /sys/fs/cgroup/memory.</param>
/// <param name="MountRoot">The cgroup mounted there (mountinfo's root field).</param>
/// <param name="OwnCgroup">This process's cgroup in it (from /proc/self/cgroup), if listed.</param>
/// <param name="OwnDirectory">The directory of <paramref name="OwnCgroup"/>, or null if it is outside the mount.</param>
/// <param name="ParentCgroup">The cgroup sandbox cgroups are created under.</param>
/// <param name="ParentDirectory">Its directory, or null if it is outside the mount.</param>
/// <param name="ParentExists">Whether the parent already exists (otherwise the driver creates it).</param>
/// <param name="Writable">Whether the current user may create cgroups in the parent (or its nearest existing ancestor).</param>
internal sealed record CgroupV1Hierarchy(
    IReadOnlyList<string> Controllers,
    string MountPoint,
    string MountRoot,
    string? OwnCgroup,
    string? OwnDirectory,
    string ParentCgroup,
    string? ParentDirectory,
    bool ParentExists,
    bool Writable);
