namespace Sandbox.Cgroups.V1;

/// <summary>
/// Sandbox cgroups on cgroup v1 (legacy or hybrid layout): a directory of the same name in each hierarchy the sandbox
/// needs — <see cref="CgroupOptions.V1Controllers"/> (accounting), plus cpu, cpuset and blkio only when the limits use
/// them, since every hierarchy joined costs a mkdir, a cgroup.procs write and an rmdir per sandbox. The freezer
/// hierarchy is swept for stale cgroups but joined only if the options list it.
/// </summary>
internal sealed class CgroupV1Driver : ICgroupDriver
{
    private readonly ICgroupFileSystem _fileSystem;
    private readonly IReadOnlyList<CgroupV1Hierarchy> _hierarchies;
    private readonly HostProcessStamp _host;
    private readonly IProcessKiller _killer;
    private readonly CgroupOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _prepareLock = new();
    private readonly HashSet<string> _prepared = new(StringComparer.Ordinal);

    public CgroupV1Driver(
        ICgroupFileSystem fileSystem, IReadOnlyList<CgroupV1Hierarchy> hierarchies, HostProcessStamp host,
        IProcessKiller? killer = null, CgroupOptions? options = null, TimeProvider? time = null)
    {
        _fileSystem = fileSystem;
        _options = options ?? CgroupOptions.Default;
        // Only the hierarchies a sandbox may join; devices, net_cls and the like are left alone.
        string[] usable = [.. _options.V1Controllers, V1CpuController.Name, V1CpusetController.Name, V1BlkioController.Name, V1FreezerController.Name];
        _hierarchies = [.. hierarchies.Where(h => h.Controllers.Any(c => usable.Contains(c, StringComparer.Ordinal)))];
        _host = host;
        _killer = killer ?? ProcessKiller.Instance;
        _time = time ?? TimeProvider.System;
    }

    public int Version => 1;

    public IReadOnlyList<string> ParentDirectories =>
        [.. _hierarchies.Where(h => h.ParentDirectory is not null).Select(h => h.ParentDirectory!)];

    public ISandboxCgroup Create(string id, CgroupLimits limits)
    {
        ThrowIfInvalid(limits);
        return WithLimits(SandboxCgroupName.Format(_host, id), [], limits);
    }

    /// <summary>
    /// <paramref name="cgroup"/>, made by <see cref="Create"/> and never joined, with <paramref name="limits"/> in
    /// place of its own: directories in the hierarchies the new limits need and it lacks, then every limit file written.
    /// </summary>
    public ISandboxCgroup? TryApply(ISandboxCgroup cgroup, CgroupLimits limits)
    {
        if (cgroup is not CgroupV1SandboxCgroup made) return null;
        ThrowIfInvalid(limits);
        var applied = WithLimits(made.Name, made.Placements, limits);
        made.CloseJoinFiles(); // the new limits may add a hierarchy: the child joins by path
        return applied;
    }

    private static void ThrowIfInvalid(CgroupLimits limits)
    {
        IReadOnlyList<string> problems = limits.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(limits));
        }
    }

    /// <summary>
    /// The cgroup <paramref name="name"/> in every hierarchy <paramref name="limits"/> needs — <paramref name="existing"/>
    /// directories kept, the others made — with the limits written; on failure the directories made here are removed.
    /// </summary>
    private CgroupV1SandboxCgroup WithLimits(string name, IReadOnlyList<CgroupV1Placement> existing, CgroupLimits limits)
    {
        IReadOnlyList<CgroupV1Hierarchy> hierarchies = HierarchiesFor(limits);
        foreach (CgroupV1Hierarchy hierarchy in hierarchies)
        {
            PrepareParent(hierarchy);
        }

        var placements = new List<CgroupV1Placement>(existing);
        var made = new List<CgroupV1Placement>();
        try
        {
            foreach (CgroupV1Hierarchy hierarchy in hierarchies)
            {
                string directory = CgroupPaths.Join(hierarchy.ParentDirectory!, name);
                if (placements.Any(p => p.Directory == directory))
                {
                    continue;
                }
                try
                {
                    _fileSystem.CreateDirectory(directory);
                }
                catch (CgroupIOException e)
                {
                    throw new CgroupException("create the sandbox cgroup", directory, e.Errno,
                        e.Errno == CgroupIOException.EEXIST ? "Use a sandbox id that is unique within this host process." : CgroupFiles.FixFor(e.Errno), e);
                }
                var placement = new CgroupV1Placement(hierarchy.Controllers, directory);
                placements.Add(placement);
                made.Add(placement);
            }
            var cgroup = new CgroupV1SandboxCgroup(_fileSystem, name, placements, [], _killer, _options, _time);
            var enforced = new List<CgroupEnforcedLimit>();
            if (cgroup.DirectoryOf(V1CpusetController.Name) is { } cpuset)
            {
                V1CpusetController.Apply(_fileSystem, cpuset, limits, enforced);
            }
            if (cgroup.DirectoryOf(V1MemoryController.Name) is { } memory)
            {
                V1MemoryController.Apply(_fileSystem, memory, limits, enforced);
            }
            if (cgroup.DirectoryOf(PidsController.Name) is { } pids)
            {
                PidsController.Apply(_fileSystem, pids, limits, enforced, version: 1);
            }
            if (cgroup.DirectoryOf(V1CpuController.Name) is { } cpu)
            {
                V1CpuController.Apply(_fileSystem, cpu, limits, enforced);
            }
            if (cgroup.DirectoryOf(V1BlkioController.Name) is { } blkio)
            {
                V1BlkioController.Apply(_fileSystem, blkio, limits, enforced);
            }
            return new CgroupV1SandboxCgroup(_fileSystem, name, placements, enforced, _killer, _options, _time);
        }
        catch
        {
            foreach (CgroupV1Placement placement in made)
            {
                try
                {
                    _fileSystem.RemoveDirectory(placement.Directory);
                }
                catch (CgroupIOException)
                {
                    // Best effort: a later RemoveStaleAsync finds it once this host has exited.
                }
            }
            throw;
        }
    }

    public async Task<StaleCgroupSweep> RemoveStaleAsync(CancellationToken cancellationToken = default)
    {
        var byName = new Dictionary<string, List<CgroupV1Placement>>(StringComparer.Ordinal);
        var leftAlone = new SortedSet<string>(StringComparer.Ordinal);
        foreach (CgroupV1Hierarchy hierarchy in _hierarchies.Where(h => h.ParentDirectory is not null))
        {
            foreach (string name in SandboxCgroupName.OwnedByDeadHosts(_fileSystem.ListDirectories(hierarchy.ParentDirectory!), _fileSystem, _host, leftAlone))
            {
                if (!byName.TryGetValue(name, out List<CgroupV1Placement>? placements))
                {
                    byName[name] = placements = [];
                }
                placements.Add(new CgroupV1Placement(hierarchy.Controllers, CgroupPaths.Join(hierarchy.ParentDirectory!, name)));
            }
        }

        var removed = new List<string>();
        var failed = new List<(string, string)>();
        foreach ((string name, List<CgroupV1Placement> placements) in byName.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var cgroup = new CgroupV1SandboxCgroup(_fileSystem, name, placements, [], _killer, _options, _time);
            try
            {
                await cgroup.KillAsync(cancellationToken).ConfigureAwait(false);
                await cgroup.RemoveAsync(cancellationToken).ConfigureAwait(false);
                removed.Add(name);
            }
            catch (CgroupException e)
            {
                failed.Add((name, e.Message));
            }
        }
        return new StaleCgroupSweep(removed, failed, [.. leftAlone]);
    }

    private List<CgroupV1Hierarchy> HierarchiesFor(CgroupLimits limits)
    {
        var controllers = new List<string>(_options.V1Controllers);
        if (limits.MemoryBytes is not null)
        {
            controllers.Add(V1MemoryController.Name);
        }
        if (limits.MaxProcesses is not null)
        {
            controllers.Add(PidsController.Name);
        }
        if (limits.CpuQuota is not null || limits.CpuWeight is not null)
        {
            controllers.Add(V1CpuController.Name);
        }
        if (limits.NeedsCpuset)
        {
            controllers.Add(V1CpusetController.Name);
        }
        if (limits.NeedsIo)
        {
            controllers.Add(V1BlkioController.Name);
        }
        var result = new List<CgroupV1Hierarchy>();
        foreach (string controller in controllers.Distinct(StringComparer.Ordinal))
        {
            CgroupV1Hierarchy hierarchy = _hierarchies.FirstOrDefault(h => h.Controllers.Contains(controller, StringComparer.Ordinal))
                ?? throw new CgroupException(
                    $"use the cgroup v1 {controller} controller", null, 0,
                    $"Mount it as root: `mkdir -p /sys/fs/cgroup/{controller} && mount -t cgroup -o {controller} cgroup /sys/fs/cgroup/{controller}`.");
            if (hierarchy.ParentDirectory is null)
            {
                throw new CgroupException(
                    $"place sandbox cgroups in the {controller} hierarchy", hierarchy.ParentCgroup, 0,
                    $"The parent cgroup is outside the mount at {hierarchy.MountPoint}: run `sandbox doctor`.");
            }
            if (!result.Contains(hierarchy))
            {
                result.Add(hierarchy);
            }
        }
        return result;
    }

    private void PrepareParent(CgroupV1Hierarchy hierarchy)
    {
        lock (_prepareLock)
        {
            if (_prepared.Contains(hierarchy.ParentDirectory!))
            {
                return;
            }
            bool isCpuset = hierarchy.Controllers.Contains(V1CpusetController.Name, StringComparer.Ordinal);
            CgroupFiles.CreateDirectories(
                _fileSystem, hierarchy.MountPoint, hierarchy.ParentDirectory!,
                afterCreate: isCpuset ? directory => V1CpusetController.Inherit(_fileSystem, directory) : null);
            try
            {
                _fileSystem.AnchorDirectory(hierarchy.ParentDirectory!);
            }
            catch (CgroupIOException e)
            {
                throw new CgroupException("open the parent cgroup", e.Path, e.Errno, CgroupFiles.FixFor(e.Errno), e);
            }
            _prepared.Add(hierarchy.ParentDirectory!);
        }
    }
}
