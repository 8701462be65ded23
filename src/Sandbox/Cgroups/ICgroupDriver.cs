namespace Sandbox.Cgroups;

/// <summary>Creates sandbox cgroups with limits under a parent cgroup, for one cgroup version.</summary>
internal interface ICgroupDriver
{
    /// <summary>1 or 2.</summary>
    int Version { get; }

    /// <summary>The directories sandbox cgroups are created in (one on v2, one per hierarchy on v1).</summary>
    IReadOnlyList<string> ParentDirectories { get; }

    /// <summary>
    /// Creates the cgroup for sandbox <paramref name="id"/> (named by <see cref="SandboxCgroupName"/>) and applies
    /// <paramref name="limits"/>; on failure removes what it created and throws <see cref="CgroupException"/>.
    /// The parent is prepared on first use (created, controllers enabled).
    /// </summary>
    ISandboxCgroup Create(string id, CgroupLimits limits);

    /// <summary>Kills and removes the <c>sandbox-*</c> cgroups whose host process is gone (see <see cref="SandboxCgroupName"/>).</summary>
    Task<StaleCgroupSweep> RemoveStaleAsync(CancellationToken cancellationToken = default);
}
