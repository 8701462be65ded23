using System.Collections.Immutable;

namespace Sandbox.Launch;

/// <summary>
/// Everything the native launcher will do, decided by the host: the managed form of the wire plan
/// (see <see cref="PlanWriter"/> and src/native/launcher/sandbox_plan.h).
/// </summary>
internal sealed record LaunchPlan
{
    public PlanFlags Flags { get; init; }
    public ulong CloneFlags { get; init; }
    public int StdinFd { get; init; } = -1;
    public int StdoutFd { get; init; } = -1;
    public int StderrFd { get; init; } = -1;
    public int ReportFd { get; init; } = -1;
    public int InitFd { get; init; } = -1;

    /// <summary>A network namespace made ahead of time that the sandbox enters instead of creating one; -1 = none.</summary>
    public int NetworkNamespaceFd { get; init; } = -1;

    /// <summary>A sealed memfd holding the seccomp program, which init loads in the payload's process before exec; -1 = none.</summary>
    public int SeccompFd { get; init; } = -1;

    /// <summary>A unix socket to the host's seccomp supervisor: init sends the filter's listener fd there; -1 = none.</summary>
    public int SeccompNotifyFd { get; init; } = -1;

    /// <summary>
    /// cgroup v2: an fd of the sandbox cgroup's directory, which the launcher clones the child into (clone3 with
    /// CLONE_INTO_CGROUP); <see cref="CgroupProcsFiles"/> is then only the fallback for kernels without it. -1 = none.
    /// </summary>
    public int CgroupFd { get; init; } = -1;
    /// <summary>
    /// A root template (<see cref="RootFs.RootTemplates"/>): the child mounts a copy of it as the new root's starting point,
    /// and <see cref="Mounts"/> then hold only what each sandbox gets fresh. -1 = none: the root starts as an empty tmpfs.
    /// </summary>
    public int RootTemplateFd { get; init; } = -1;
    /// <summary>
    /// A mount namespace whose root is a root template (<see cref="RootFs.RootTemplates"/>): the launcher clones the child from
    /// inside it, so its root is in place at birth (no staging, no pivot_root, no unmount of the host's tree), and
    /// <see cref="Mounts"/> hold only fresh steps that name no host path. -1 = none.
    /// </summary>
    public int RootNamespaceFd { get; init; } = -1;
    /// <summary>A root template's plan only: the mount flags of its root tmpfs (none: nosuid, nodev).</summary>
    public MountFlags TemplateRootFlags { get; init; }
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public uint SetupTimeoutMs { get; init; }
    public string? UidMap { get; init; }
    public string? GidMap { get; init; }
    public string? Hostname { get; init; }
    public string? RootStaging { get; init; }
    public string? RootOptions { get; init; }
    public string? WorkingDirectory { get; init; }
    public ImmutableArray<string> Arguments { get; init; } = [];
    public ImmutableArray<string> Environment { get; init; } = [];
    public ImmutableArray<MountOp> Mounts { get; init; } = [];
    public ImmutableArray<ResourceLimit> ResourceLimits { get; init; } = [];
    public ImmutableArray<string> CgroupProcsFiles { get; init; } = [];

    /// <summary>
    /// Empty, or one fd per <see cref="CgroupProcsFiles"/> entry: that file opened for writing by the host ahead of the
    /// launch (-1: the child opens the path), so the child's join is one write per hierarchy.
    /// </summary>
    public ImmutableArray<int> CgroupProcsFds { get; init; } = [];

    /// <summary>
    /// Host side only, not on the wire: the image root's layers are root's and the sandbox has a user namespace, so
    /// the runner gives the overlay idmapped copies of them (<see cref="MountOp.LayerFds"/>) made with
    /// <see cref="UidMap"/> and <see cref="GidMap"/>.
    /// </summary>
    public bool IdmapImageLayers { get; init; }

    /// <summary>Value equality over the arrays too (records compare ImmutableArray by reference).</summary>
    public bool Equivalent(LaunchPlan other) =>
        this with { Arguments = [], Environment = [], Mounts = [], ResourceLimits = [], CgroupProcsFiles = [], CgroupProcsFds = [] }
            == other with { Arguments = [], Environment = [], Mounts = [], ResourceLimits = [], CgroupProcsFiles = [], CgroupProcsFds = [] }
        && Arguments.SequenceEqual(other.Arguments)
        && Environment.SequenceEqual(other.Environment)
        && Mounts.SequenceEqual(other.Mounts)
        && ResourceLimits.SequenceEqual(other.ResourceLimits)
        && CgroupProcsFiles.SequenceEqual(other.CgroupProcsFiles)
        && CgroupProcsFds.SequenceEqual(other.CgroupProcsFds);
}

/// <summary>One step of the mount plan, run in order inside the new root.</summary>
/// <param name="Kind">What to do.</param>
/// <param name="Target">The path inside the sandbox (absolute, normalised).</param>
/// <param name="Source">The host path of a bind, or the text of a symlink.</param>
/// <param name="Data">Mount options, or the contents of a file.</param>
/// <param name="Flags">Mount flags.</param>
/// <param name="Mode">Permissions of a created directory or file.</param>
internal sealed record MountOp(MountOpKind Kind, string Target, string? Source = null, string? Data = null,
    MountFlags Flags = MountFlags.None, uint Mode = 0)
{
    /// <summary>
    /// An overlay's idmapped lower layers: one fd per lower directory of <see cref="Source"/> (a detached mount the
    /// launcher's child puts over that directory first), -1 for a directory used as it is; empty = none.
    /// </summary>
    public ImmutableArray<int> LayerFds { get; init; } = [];

    /// <summary>
    /// Host side only, not on the wire nor in <see cref="Equals(MountOp?)"/>: which file a bind's source was when the plan was
    /// made, so that a root template holding the bind is made again once another file takes the path.
    /// </summary>
    public Interop.FileIdentity SourceIdentity { get; init; }

    /// <summary>Value equality, <see cref="LayerFds"/> compared element by element.</summary>
    public bool Equals(MountOp? other) =>
        other is not null && Kind == other.Kind && Target == other.Target && Source == other.Source && Data == other.Data
        && Flags == other.Flags && Mode == other.Mode && LayerFds.AsSpan().SequenceEqual(other.LayerFds.AsSpan());

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, Target, Source, Data, Flags, Mode, LayerFds.Length);
}

/// <summary>A setrlimit applied before exec.</summary>
internal readonly record struct ResourceLimit(uint Resource, ulong Soft, ulong Hard)
{
    public const uint Core = 4;
    public const uint NoFile = 7;
    public const ulong Infinity = ulong.MaxValue;
}
