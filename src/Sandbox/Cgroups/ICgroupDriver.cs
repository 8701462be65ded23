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

    /// <summary>
    /// Gives <paramref name="cgroup"/>, which this driver made with <see cref="Create"/> ahead of time and nobody has
    /// joined, <paramref name="limits"/> instead of the ones it was made with; null when this driver cannot (the caller
    /// then creates a cgroup for the limits). Throws <see cref="CgroupException"/> as <see cref="Create"/> does.
    /// </summary>
    ISandboxCgroup? TryApply(ISandboxCgroup cgroup, CgroupLimits limits) => null;

    /// <summary>Kills and removes the <c>sandbox-*</c> cgroups whose host process is gone (see <see cref="SandboxCgroupName"/>).</summary>
    Task<StaleCgroupSweep> RemoveStaleAsync(CancellationToken cancellationToken = default);
}
