namespace Sandbox.Cgroups;

/// <summary>One line of /proc/self/cgroup: <c>HIERARCHY-ID:CONTROLLER-LIST:PATH</c>.</summary>
/// <param name="HierarchyId">0 for the unified (v2) hierarchy; the v1 hierarchy's id otherwise.</param>
/// <param name="Controllers">The v1 controllers bound to the hierarchy (and <c>name=X</c> for a named one); empty for v2.</param>
/// <param name="Path">The process's cgroup, relative to the root of the hierarchy as the process's cgroup namespace sees it.</param>
internal sealed record ProcCgroupEntry(int HierarchyId, IReadOnlyList<string> Controllers, string Path)
{
    /// <summary>Whether this is the unified hierarchy's line (<c>0::/path</c>).</summary>
    public bool IsUnified => HierarchyId == 0 && Controllers.Count == 0;
}
