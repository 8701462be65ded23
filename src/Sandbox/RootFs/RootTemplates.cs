using System.Collections.Immutable;
using Microsoft.Win32.SafeHandles;
using Sandbox.Interop;
using Sandbox.Launch;

namespace Sandbox.RootFs;

/// <summary>
/// Root templates: the part of a sandbox's root that is the same for every run with the same mounts (the read-only binds
/// of the host's directories, /etc's files, /dev's nodes) built once into a detached tmpfs tree, sealed read-only down to
/// its superblocks, and copied into each sandbox (open_tree), which then mounts only what it gets fresh: /proc, devpts and
/// its writable tmpfs mounts. That takes ~40 mount steps off every launch.
/// <para>
/// A root host makes a template outside any user namespace, and a mount namespace around it that launches are cloned
/// from; a rootless host makes it in a user namespace of its own (sealed there, where no sandbox holds a capability) and
/// its launches copy it. A host whose kernel cannot build one (no mounts beneath a detached tree before Linux 6.15, or no
/// unprivileged user namespaces) says so once and builds each root as before. The runner keeps the
/// <see cref="Capacity"/> most recently used. A bind whose source is another file than when its template was made (a
/// rename over it, as ldconfig does to /etc/ld.so.cache) has another key, so it gets a new template. Thread-safe.
/// </para>
/// </summary>
internal sealed class RootTemplates : IDisposable
{
    /// <summary>How many templates (and failed builds) are kept.</summary>
    public const int Capacity = 4;

    /// <summary>How long a template no launch asked for stays, by default: it pins its bind sources' file systems.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(60);

    private readonly ISyscalls _syscalls;
    private readonly TimeProvider _time;
    private ITimer? _sweeper;

    /// <param name="syscalls">The kernel.</param>
    /// <param name="idleTimeout">How long a template no launch asked for stays open.</param>
    /// <param name="time">The clock of the idle timer (tests: a manual one).</param>
    public RootTemplates(ISyscalls syscalls, TimeSpan? idleTimeout = null, TimeProvider? time = null)
    {
        _syscalls = syscalls;
        IdleTimeout = idleTimeout ?? DefaultIdleTimeout;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How long a template no launch asked for stays open.</summary>
    public TimeSpan IdleTimeout { get; }

    private const int EPERM = 1, EINVAL = 22, ENOSYS = 38, EOPNOTSUPP = 95;

    private readonly Lock _gate = new();
    private readonly List<Template> _templates = []; // the most recently used first
    private string? _unavailable;
    private bool _disposed;

    /// <summary>Why this host's roots are built per run, once a build has shown it cannot make templates; null otherwise.</summary>
    public string? Unavailable
    {
        get { lock (_gate) return _unavailable; }
    }

    /// <summary>How many templates were built (or tried).</summary>
    public int Builds { get; private set; }

    /// <summary>How many templates are held open (each a detached mount in this process).</summary>
    public int Held
    {
        get { lock (_gate) return _templates.Count(t => t.Tree is not null); }
    }

    /// <summary>
    /// <paramref name="plan"/> started from a template, its mounts cut down to the fresh ones, with the lease that keeps the
    /// template open until the launch has copied it (dispose it then); or the plan unchanged and no lease, when it cannot
    /// have one: no new read-only root, an image root, nothing a template could hold, or no template could be built.
    /// </summary>
    public (LaunchPlan Plan, Lease? Lease) Apply(LaunchPlan plan)
    {
        if (!plan.Flags.HasFlag(PlanFlags.NewRoot) || plan.RootOptions is null || plan.RootStaging is null
            || plan.RootTemplateFd >= 0 || plan.RootNamespaceFd >= 0 || plan.Mounts.Any(m => m.Kind == MountOpKind.Attach))
            return (plan, null);
        bool wholeRoot = plan.Flags.HasFlag(PlanFlags.RootReadOnly) && !plan.IdmapImageLayers;
        if (!wholeRoot || Split(plan.Mounts) is not { Template.IsEmpty: false } split)
            return ApplyToSubtree(plan);
        var lease = Acquire(plan.RootStaging, plan.RootOptions, MountFlags.None, split.Template, withNamespace: true);
        if (lease is null)
            return (plan, null);
        // Born inside the template's namespace when nothing left names a host path (which that namespace cannot reach): the
        // fresh steps bind nothing, and every cgroup.procs the child writes is an fd the host opened.
        bool reachesNoHostPath = !split.Fresh.Any(m => m.Kind is MountOpKind.Bind or MountOpKind.Overlay)
            && (plan.CgroupProcsFiles.IsDefaultOrEmpty || (plan.CgroupProcsFds.Length == plan.CgroupProcsFiles.Length && plan.CgroupProcsFds.All(fd => fd >= 0)));
        return lease.NamespaceFd >= 0 && reachesNoHostPath
            ? (plan with { Mounts = split.Fresh, RootNamespaceFd = lease.NamespaceFd }, lease)
            : (plan with { Mounts = split.Fresh, RootTemplateFd = lease.Fd }, lease);
    }

    /// <summary>
    /// Splits a root's mount steps into what a template can hold and what each sandbox must get fresh, such that the template's
    /// steps and then the fresh ones give the root that running them in order gives. Fresh are /proc, devpts, every tmpfs not made
    /// read-only later by a remount of its own (a sandbox writes it), every step inside a fresh mount or a remounted one, every
    /// mount over one that comes after it, and every remount (the kernel changes a mount's flags only where it is attached, so the child applies
    /// them to its copy; a template's tmpfs is sealed read-only anyway). Null when a step cannot be in a template and the rest
    /// depends on it (an overlay: the image's root is the sandbox's own), or when a step's reach depends on what the template
    /// already holds (a recursive remount: it reaches every mount beneath the one holding its target).
    /// </summary>
    public static (ImmutableArray<MountOp> Template, ImmutableArray<MountOp> Fresh)? Split(ImmutableArray<MountOp> mounts)
    {
        var template = ImmutableArray.CreateBuilder<MountOp>();
        var fresh = ImmutableArray.CreateBuilder<MountOp>();
        var freshTargets = new List<string>();
        for (int i = 0; i < mounts.Length; i++)
        {
            var op = mounts[i];
            // A recursive remount reaches every mount beneath the one holding its target, made before it or (from a template) not.
            if (op.Kind == MountOpKind.Overlay || (op.Kind == MountOpKind.Remount && op.Flags.HasFlag(MountFlags.Recursive)))
                return null;
            bool isFresh = op.Kind is MountOpKind.Proc or MountOpKind.Devpts or MountOpKind.Remount
                || (op.Kind == MountOpKind.Tmpfs && !SealedLater(mounts, i))
                || freshTargets.Exists(t => SandboxPath.IsWithin(op.Target, t) || (IsMount(op.Kind) && SandboxPath.IsWithin(t, op.Target)));
            (isFresh ? fresh : template).Add(op);
            // What comes later inside a fresh mount, or inside a remounted one (a write there must fail as it would in order), is fresh too.
            if (isFresh && (IsMount(op.Kind) || op.Kind == MountOpKind.Remount))
                freshTargets.Add(op.Target);
        }
        return (template.ToImmutable(), fresh.ToImmutable());
    }

    /// <summary>
    /// A root that is each sandbox's own (an image's overlay, a writable root) with a fixed subtree in it (/dev: a tmpfs made
    /// read-only later, its nodes bound in): the subtree's fixed steps from a template, attached where its tmpfs was mounted
    /// (<see cref="MountOpKind.Attach"/>); its fresh steps (devpts, /dev/shm) and everything else stay where they were.
    /// </summary>
    private (LaunchPlan Plan, Lease? Lease) ApplyToSubtree(LaunchPlan plan)
    {
        if (SplitSubtree(plan.Mounts) is not { } subtree)
            return (plan, null);
        var tmpfs = plan.Mounts[subtree.TmpfsIndex];
        var lease = Acquire(plan.RootStaging!, tmpfs.Data ?? "", tmpfs.Flags, subtree.Template, withNamespace: false);
        if (lease is null)
            return (plan, null);
        var moved = subtree.TemplateIndexes.ToHashSet();
        var mounts = ImmutableArray.CreateBuilder<MountOp>(plan.Mounts.Length);
        for (int i = 0; i < plan.Mounts.Length; i++)
        {
            if (i == subtree.TmpfsIndex)
                mounts.Add(new MountOp(MountOpKind.Attach, tmpfs.Target) { LayerFds = [lease.Fd] });
            else if (!moved.Contains(i))
                mounts.Add(plan.Mounts[i]);
        }
        return (plan with { Mounts = mounts.ToImmutable() }, lease);
    }

    /// <summary>
    /// The first tmpfs in <paramref name="mounts"/> that a later remount of its own makes read-only, with the steps inside it
    /// that a template of it can hold (<see cref="Split"/> of those steps, their targets made relative to it), such that
    /// mounting that template where the tmpfs was mounted, and dropping those steps, leaves the tree the steps in order
    /// leave. None when a later step mounts over it or one of its ancestors (the steps inside would then land elsewhere), or
    /// remounts anything recursively (that reaches every mount beneath the one holding its target, the template's too).
    /// </summary>
    public static (int TmpfsIndex, ImmutableArray<int> TemplateIndexes, ImmutableArray<MountOp> Template)? SplitSubtree(ImmutableArray<MountOp> mounts)
    {
        for (int t = 0; t < mounts.Length; t++)
        {
            var tmpfs = mounts[t];
            if (tmpfs.Kind != MountOpKind.Tmpfs || tmpfs.Target == "/" || !SealedLater(mounts, t))
                continue;
            var inside = new List<int>();
            bool covered = false;
            for (int j = t + 1; j < mounts.Length && !covered; j++)
            {
                var op = mounts[j];
                // A recursive remount reaches every mount beneath the one holding its target, wherever that is.
                if (op.Kind == MountOpKind.Remount && op.Flags.HasFlag(MountFlags.Recursive))
                    covered = true;
                else if (op.Target != tmpfs.Target && SandboxPath.IsWithin(op.Target, tmpfs.Target))
                    inside.Add(j);
                else if (IsMount(op.Kind) && SandboxPath.IsWithin(tmpfs.Target, op.Target))
                    covered = true;
            }
            if (covered)
                continue;
            var rebased = inside.Select(j => mounts[j] with { Target = Rebase(mounts[j].Target, tmpfs.Target) }).ToImmutableArray();
            if (Split(rebased) is not { Template.IsEmpty: false } split)
                continue;
            // Split keeps each step (the same instance) in one list or the other, in order.
            var templateIndexes = ImmutableArray.CreateBuilder<int>();
            for (int k = 0, at = 0; k < rebased.Length && at < split.Template.Length; k++)
                if (ReferenceEquals(rebased[k], split.Template[at]))
                {
                    templateIndexes.Add(inside[k]);
                    at++;
                }
            return (t, templateIndexes.ToImmutable(), split.Template);
        }
        return null;
    }

    /// <summary><paramref name="path"/> (within <paramref name="root"/>) as a path from <paramref name="root"/>: "/dev/pts" from "/dev" is "/pts".</summary>
    private static string Rebase(string path, string root) => path[root.Length..];

    private static bool IsMount(MountOpKind kind) => kind is MountOpKind.Bind or MountOpKind.Tmpfs or MountOpKind.Proc or MountOpKind.Devpts or MountOpKind.Overlay;

    /// <summary>Whether the tmpfs of step <paramref name="index"/> is remounted read-only (itself, not recursively) later, before anything mounts over it.</summary>
    private static bool SealedLater(ImmutableArray<MountOp> mounts, int index)
    {
        string target = mounts[index].Target;
        for (int j = index + 1; j < mounts.Length; j++)
        {
            var later = mounts[j];
            if (later.Target != target) continue;
            if (IsMount(later.Kind)) return false;
            if (later.Kind == MountOpKind.Remount)
                return later.Flags.HasFlag(MountFlags.ReadOnly) && !later.Flags.HasFlag(MountFlags.Recursive);
        }
        return false;
    }

    private Lease? Acquire(string staging, string rootOptions, MountFlags rootFlags, ImmutableArray<MountOp> ops, bool withNamespace)
    {
        lock (_gate)
        {
            if (_unavailable is not null || _disposed)
                return null;
            var now = _time.GetUtcNow();
            for (int i = 0; i < _templates.Count; i++)
            {
                var known = _templates[i];
                if (known.Matches(rootOptions, rootFlags, ops))
                {
                    _templates.RemoveAt(i);
                    _templates.Insert(0, known);
                    known.LastUsed = now;
                    return known.Tree is null ? null : new Lease(known.Tree, known.Namespace);
                }
                // The same steps, but a bind's source is another file now (replaced, or unmounted on the host): this one
                // would only pin what is gone.
                if (known.Matches(rootOptions, rootFlags, ops, ignoreSources: true))
                {
                    known.Dispose();
                    _templates.RemoveAt(i--);
                }
            }

            // Built under the lock: builds are rare (a new set of mounts), and two launches of one new set build it once.
            // A rootless host's builder works in a user namespace of its own, as root there (the host's ids outside); the
            // template's superblocks then belong to that namespace, which no sandbox holds a capability over.
            uint euid = _syscalls.EffectiveUserId, egid = _syscalls.EffectiveGroupId;
            bool rootless = euid != 0;
            var plan = new LaunchPlan
            {
                Flags = PlanFlags.NewRoot | PlanFlags.RootReadOnly | (rootless ? PlanFlags.DenySetgroups : 0),
                UidMap = rootless ? $"0 {euid} 1\n" : null,
                GidMap = rootless ? $"0 {egid} 1\n" : null,
                RootStaging = staging,
                RootOptions = rootOptions,
                TemplateRootFlags = rootFlags,
                Arguments = ["root-template"],
                Mounts = ops,
            };
            Builds++;
            var tree = _syscalls.TryBuildRootTemplate(PlanWriter.Write(plan), out var error);
            if (tree is null && error is not null && CannotBuildHere(error))
            {
                _unavailable = $"the kernel refused a root template ({error.Stage}, {ErrnoNames.Of(error.Errno)}: {error.Detail}); " +
                    "mounts beneath a detached tree need Linux 6.15";
                return null;
            }
            // Its namespace, for launches that need no host path: without one (refused), launches copy the tree instead. A
            // rootless host could not enter it (setns needs CAP_SYS_ADMIN where the host is).
            var ns = tree is null || !withNamespace || rootless ? null : _syscalls.TryCreateRootNamespace(tree, staging, out _);
            // A build that failed on these mounts (a missing bind source) is remembered too: the launch reports the error.
            _templates.Insert(0, new Template(rootOptions, rootFlags, ops, tree, ns) { LastUsed = now });
            if (_templates.Count > Capacity)
            {
                _templates[^1].Dispose(); // closed once the last launch using it lets go
                _templates.RemoveAt(_templates.Count - 1);
            }
            _sweeper ??= _time.CreateTimer(_ => SweepIdle(), null, IdleTimeout, Timeout.InfiniteTimeSpan);
            return tree is null ? null : new Lease(tree, ns);
        }
    }

    /// <summary>Closes the templates no launch asked for within <see cref="IdleTimeout"/>, and arms the timer for the next.</summary>
    private void SweepIdle()
    {
        lock (_gate)
        {
            _sweeper?.Dispose();
            _sweeper = null;
            var now = _time.GetUtcNow();
            for (int i = _templates.Count - 1; i >= 0; i--)
            {
                if (now - _templates[i].LastUsed < IdleTimeout) continue;
                _templates[i].Dispose(); // closed once the last launch using it lets go
                _templates.RemoveAt(i);
            }
            if (_templates.Count > 0 && !_disposed)
                _sweeper = _time.CreateTimer(_ => SweepIdle(), null, _templates.Min(t => t.LastUsed) + IdleTimeout - now, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>A refusal of the template itself, not of one of its mounts: this host builds every root per run.</summary>
    private static bool CannotBuildHere(NativeSetupError error) =>
        error.Stage is SetupStage.MountRoot or SetupStage.RootReadOnly or SetupStage.Clone or SetupStage.Plan or SetupStage.ChildDied
        || error.Errno is EPERM or ENOSYS or EOPNOTSUPP
        || (error.Errno == EINVAL && error.Stage is SetupStage.Bind or SetupStage.Tmpfs);

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _sweeper?.Dispose();
            _sweeper = null;
            foreach (var template in _templates)
                template.Dispose();
            _templates.Clear();
        }
    }

    private sealed record Template(string RootOptions, MountFlags RootFlags, ImmutableArray<MountOp> Ops, SafeFileHandle? Tree, SafeFileHandle? Namespace)
    {
        public void Dispose()
        {
            Tree?.Dispose();
            Namespace?.Dispose();
        }

        /// <summary>When a launch last asked for it.</summary>
        public DateTimeOffset LastUsed { get; set; }

        /// <summary>
        /// The same mounts, with every bind's source still the file it was (<see cref="MountOp.SourceIdentity"/>), or with
        /// <paramref name="ignoreSources"/> whatever file each is now.
        /// </summary>
        public bool Matches(string rootOptions, MountFlags rootFlags, ImmutableArray<MountOp> ops, bool ignoreSources = false)
        {
            if (RootOptions != rootOptions || RootFlags != rootFlags || Ops.Length != ops.Length) return false;
            for (int i = 0; i < ops.Length; i++)
                if (!Ops[i].Equals(ops[i]) || (!ignoreSources && Ops[i].SourceIdentity != ops[i].SourceIdentity)) return false;
            return true;
        }
    }

    /// <summary>A template kept open for one launch: its fds stay valid until this is disposed, even if the template is dropped meanwhile.</summary>
    public sealed class Lease : IDisposable
    {
        private SafeFileHandle? _tree;
        private SafeFileHandle? _namespace;

        internal Lease(SafeFileHandle tree, SafeFileHandle? ns)
        {
            bool added = false;
            tree.DangerousAddRef(ref added);
            _tree = tree;
            Fd = (int)tree.DangerousGetHandle();
            if (ns is not null)
            {
                bool nsAdded = false;
                ns.DangerousAddRef(ref nsAdded);
                _namespace = ns;
                NamespaceFd = (int)ns.DangerousGetHandle();
            }
        }

        /// <summary>The template's fd, for the plan.</summary>
        public int Fd { get; }

        /// <summary>The fd of the template's namespace, or -1 when it has none.</summary>
        public int NamespaceFd { get; } = -1;

        public void Dispose()
        {
            Interlocked.Exchange(ref _tree, null)?.DangerousRelease();
            Interlocked.Exchange(ref _namespace, null)?.DangerousRelease();
        }
    }
}
