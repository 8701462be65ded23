namespace Sandbox.Cgroups;

/// <summary>One line of /proc/self/mountinfo (proc(5)), with the octal escapes (\040 ...) decoded.</summary>
/// <param name="MountId">Field 1: the mount's id.</param>
/// <param name="ParentId">Field 2: the parent mount's id.</param>
/// <param name="Device">Field 3: MAJ:MIN of the file system.</param>
/// <param name="Root">Field 4: the directory of the file system that is mounted here (for a cgroup mount, the cgroup path).</param>
/// <param name="MountPoint">Field 5: where it is mounted.</param>
/// <param name="MountOptions">Field 6: per-mount options.</param>
/// <param name="FileSystemType">After the separator: e.g. <c>cgroup</c> or <c>cgroup2</c>.</param>
/// <param name="Source">After the separator: the mount source.</param>
/// <param name="SuperOptions">After the separator: per-superblock options (for cgroup v1: the controllers).</param>
internal sealed record MountInfoEntry(
    int MountId,
    int ParentId,
    string Device,
    string Root,
    string MountPoint,
    string MountOptions,
    string FileSystemType,
    string Source,
    string SuperOptions)
{
    /// <summary>The super options, split on commas.</summary>
    public IReadOnlyList<string> SuperOptionList => SuperOptions.Split(',', StringSplitOptions.RemoveEmptyEntries);
}
