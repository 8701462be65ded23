namespace Sandbox;

/// <summary>How a sandbox's first process came to be in its cgroup (<see cref="AppliedIsolation.CgroupJoin"/>).</summary>
/// <remarks>The values are those of the launcher's wire format (sandbox_plan.h, <c>enum sbx_cgroup_join</c>).</remarks>
public enum CgroupJoinMethod
{
    /// <summary>
    /// Born in it: cgroup v2, cloned with clone3 and <c>CLONE_INTO_CGROUP</c> (Linux 5.7+), so it never ran outside
    /// its cgroup and no cgroup.procs was written.
    /// </summary>
    CloneIntoCgroup = 1,

    /// <summary>
    /// Moved into it by itself: the launcher's child wrote "0" into the cgroup's cgroup.procs (one per hierarchy on
    /// cgroup v1) before it waited to be released, so before it ran any code of the sandbox's.
    /// </summary>
    CgroupProcs = 2,
}
