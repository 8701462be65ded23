using System.Collections.Immutable;

namespace Sandbox;

/// <summary>Exactly what isolation a run had: reported in every <see cref="SandboxResult"/>.</summary>
/// <param name="Namespaces">The namespaces created.</param>
/// <param name="Rootless">Whether the host ran unprivileged (through a user namespace).</param>
/// <param name="User">The payload's ids inside the sandbox.</param>
/// <param name="HostUser">The host ids they map to.</param>
/// <param name="UidMap">The uid_map written ("inside outside count"), if a user namespace was made.</param>
/// <param name="GidMap">The gid_map written.</param>
/// <param name="Network">Loopback only, or the host's network.</param>
/// <param name="ReadOnlyRoot">Whether the root file system was read-only.</param>
/// <param name="CapabilitiesDropped">Whether every capability set (bounding and ambient included) was emptied.</param>
/// <param name="NoNewPrivileges">Whether no_new_privs was set.</param>
/// <param name="SupplementaryGroupsCleared">Whether the host's supplementary groups were dropped (root hosts; rootless hosts cannot).</param>
/// <param name="EnvironmentInherited">Whether any of the host's environment reached the program (never).</param>
/// <param name="NewSession">Whether the program ran in a new session, without a controlling terminal.</param>
/// <param name="Mounts">The mounts of the sandbox's root, in order.</param>
public sealed record AppliedIsolation(
    SandboxNamespaces Namespaces,
    bool Rootless,
    SandboxIdentity User,
    SandboxIdentity HostUser,
    string? UidMap,
    string? GidMap,
    NetworkIsolation Network,
    bool ReadOnlyRoot,
    bool CapabilitiesDropped,
    bool NoNewPrivileges,
    bool SupplementaryGroupsCleared,
    bool EnvironmentInherited,
    bool NewSession,
    ImmutableArray<string> Mounts)
{
    /// <summary>The seccomp policy the program ran under, or null when it ran without a filter (<see cref="Seccomp.SeccompPolicy.Unconfined"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Seccomp.SeccompPolicy? Seccomp { get; init; }

    /// <summary>How many BPF instructions the loaded filter had (0 without a filter).</summary>
    public int SeccompInstructions { get; init; }

    /// <summary>How the sandbox joined its cgroup, or null when it had none (no limit asked for one).</summary>
    public CgroupJoinMethod? CgroupJoin { get; init; }

    /// <summary>
    /// Why a sandbox on cgroup v2 joined with <see cref="CgroupJoinMethod.CgroupProcs"/> rather than
    /// <see cref="CgroupJoinMethod.CloneIntoCgroup"/> (clone3 or <c>CLONE_INTO_CGROUP</c> missing, with the errno);
    /// null when it did not fall back.
    /// </summary>
    public string? CgroupJoinFallback { get; init; }

    /// <summary>
    /// Whether the root's fixed part (the binds of the host's directories, /etc's files, /dev's nodes; on a root of the
    /// sandbox's own, such as an image's, its /dev) was a copy of a sealed, read-only template made once for runs with the
    /// same mounts, rather than built for this run; /proc, devpts and the writable tmpfs mounts are each sandbox's own
    /// either way.
    /// </summary>
    public bool RootFromTemplate { get; init; }
}

/// <summary>What network the sandbox had.</summary>
public enum NetworkIsolation
{
    /// <summary>A network namespace of its own with only loopback up.</summary>
    LoopbackOnly,
    /// <summary>The host's network (an explicit opt-out).</summary>
    SharedWithHost,
}
