using System.Globalization;

namespace Sandbox.Cgroups.V2;

/// <summary>
/// Sandbox cgroups on the unified hierarchy. On first use, prepares the parent: creates it if missing, and enables the
/// needed controllers in its cgroup.subtree_control (moving the parent's processes into a leaf first if v2's
/// "no internal processes" rule requires it and <see cref="CgroupOptions.MoveHostProcessesToLeaf"/> allows it).
/// </summary>
internal sealed class CgroupV2Driver : ICgroupDriver
{
    private readonly ICgroupFileSystem _fileSystem;
    private readonly CgroupV2Hierarchy _hierarchy;
    private readonly HostProcessStamp _host;
    private readonly IProcessKiller _killer;
    private readonly CgroupOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _prepareLock = new();
    private readonly HashSet<string> _enabled = new(StringComparer.Ordinal);
    private bool _parentCreated;

    public CgroupV2Driver(
        ICgroupFileSystem fileSystem, CgroupV2Hierarchy hierarchy, HostProcessStamp host,
        IProcessKiller? killer = null, CgroupOptions? options = null, TimeProvider? time = null)
    {
        _fileSystem = fileSystem;
        _hierarchy = hierarchy;
        _host = host;
        _killer = killer ?? ProcessKiller.Instance;
        _options = options ?? CgroupOptions.Default;
        _time = time ?? TimeProvider.System;
        ParentDirectory = hierarchy.ParentDirectory
            ?? throw new CgroupException(
                "place sandbox cgroups", hierarchy.ParentCgroup, 0,
                $"The parent cgroup is outside the cgroup2 mount at {hierarchy.MountPoint}: run `sandbox doctor`.");
    }

    /// <summary>The directory sandbox cgroups are created in.</summary>
    public string ParentDirectory { get; }

    public int Version => 2;

    public IReadOnlyList<string> ParentDirectories => [ParentDirectory];

    public ISandboxCgroup Create(string id, CgroupLimits limits)
    {
        IReadOnlyList<string> problems = limits.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(limits));
        }
        string[] controllers = [.. ControllersFor(limits)];
        PrepareParent(controllers);

        string directory = CgroupPaths.Join(ParentDirectory, SandboxCgroupName.Format(_host, id));
        try
        {
            _fileSystem.CreateDirectory(directory);
        }
        catch (CgroupIOException e)
        {
            throw new CgroupException("create the sandbox cgroup", directory, e.Errno,
                e.Errno == CgroupIOException.EEXIST ? "Use a sandbox id that is unique within this host process." : CgroupFiles.FixFor(e.Errno), e);
        }
        try
        {
            var have = (CgroupFiles.TryRead(_fileSystem, directory + "/cgroup.controllers") ?? "")
                .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            string[] missing = [.. controllers.Except(have, StringComparer.Ordinal)];
            if (missing.Length > 0)
            {
                throw new CgroupException(
                    $"enable the controllers [{string.Join(' ', missing)}] for the sandbox cgroup", directory, 0,
                    $"Enable them in {ParentDirectory}/cgroup.subtree_control (and every ancestor's): run `sandbox doctor`.");
            }
            var enforced = new List<CgroupEnforcedLimit>();
            V2MemoryController.Apply(_fileSystem, directory, limits, enforced);
            PidsController.Apply(_fileSystem, directory, limits, enforced, version: 2);
            V2CpuController.Apply(_fileSystem, directory, limits, enforced);
            V2CpusetController.Apply(_fileSystem, directory, limits, enforced);
            V2IoController.Apply(_fileSystem, directory, limits, enforced);
            return new CgroupV2SandboxCgroup(_fileSystem, directory, enforced, _killer, _options, _time);
        }
        catch
        {
            TryRemove(directory);
            throw;
        }
    }

    public async Task<StaleCgroupSweep> RemoveStaleAsync(CancellationToken cancellationToken = default)
    {
        var removed = new List<string>();
        var failed = new List<(string, string)>();
        var leftAlone = new List<string>();
        foreach (string name in SandboxCgroupName.OwnedByDeadHosts(_fileSystem.ListDirectories(ParentDirectory), _fileSystem, _host, leftAlone))
        {
            var cgroup = new CgroupV2SandboxCgroup(_fileSystem, CgroupPaths.Join(ParentDirectory, name), [], _killer, _options, _time);
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
        return new StaleCgroupSweep(removed, failed, leftAlone);
    }

    private IEnumerable<string> ControllersFor(CgroupLimits limits)
    {
        IEnumerable<string> controllers = _options.V2Controllers;
        if (limits.MemoryBytes is not null)
        {
            controllers = controllers.Append(V2MemoryController.Name);
        }
        if (limits.MaxProcesses is not null)
        {
            controllers = controllers.Append(PidsController.Name);
        }
        if (limits.CpuQuota is not null || limits.CpuWeight is not null)
        {
            controllers = controllers.Append(V2CpuController.Name);
        }
        if (limits.NeedsCpuset)
        {
            controllers = controllers.Append(V2CpusetController.Name);
        }
        if (limits.NeedsIo)
        {
            controllers = controllers.Append(V2IoController.Name);
        }
        return controllers.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
    }

    /// <summary>Creates the parent if needed and enables <paramref name="controllers"/> for its children, once each.</summary>
    private void PrepareParent(IReadOnlyList<string> controllers)
    {
        lock (_prepareLock)
        {
            if (!_parentCreated)
            {
                // Each new level can only pass on controllers its parent enabled for it.
                CgroupFiles.CreateDirectories(
                    _fileSystem, _hierarchy.MountPoint, ParentDirectory,
                    beforeCreate: parent => EnableControllers(parent, controllers));
                try
                {
                    _fileSystem.AnchorDirectory(ParentDirectory);
                }
                catch (CgroupIOException e)
                {
                    throw new CgroupException("open the parent cgroup", e.Path, e.Errno, CgroupFiles.FixFor(e.Errno), e);
                }
                _parentCreated = true;
            }
            if (controllers.Any(c => !_enabled.Contains(c)))
            {
                EnableControllers(ParentDirectory, controllers);
                _enabled.UnionWith(controllers);
            }
        }
    }

    private void EnableControllers(string directory, IReadOnlyList<string> controllers)
    {
        var enabled = (CgroupFiles.TryRead(_fileSystem, directory + "/cgroup.subtree_control") ?? "")
            .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .ToHashSet(StringComparer.Ordinal);
        foreach (string controller in controllers.Where(c => !enabled.Contains(c)))
        {
            string file = directory + "/cgroup.subtree_control";
            try
            {
                _fileSystem.WriteText(file, "+" + controller);
            }
            catch (CgroupIOException e) when (e.Errno == CgroupIOException.EBUSY && _options.MoveHostProcessesToLeaf)
            {
                // "No internal processes": a non-root cgroup with processes cannot enable controllers for children.
                MoveProcessesToLeaf(directory);
                CgroupFiles.Write(_fileSystem, file, "+" + controller, $"enable the {controller} controller for sandbox cgroups");
            }
            catch (CgroupIOException e)
            {
                string fix = e.Errno switch
                {
                    CgroupIOException.ENOENT when _options.UnifiedOnHybrid =>
                        $"The {controller} controller is not available in {directory} (see its cgroup.controllers): on this hybrid host it is bound to a cgroup v1 hierarchy, which the cgroup2 hierarchy at {_hierarchy.MountPoint} cannot offer. Leave UnifiedOnHybrid off (the v1 driver has it), or boot with `systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all`.",
                    CgroupIOException.ENOENT =>
                        $"The {controller} controller is not available in {directory} (see its cgroup.controllers): enable it in the ancestors, or delegate it (systemd: Delegate=cpu cpuset io memory pids).",
                    CgroupIOException.EBUSY =>
                        $"{directory} holds processes: let the driver move them into a leaf (MoveHostProcessesToLeaf), or use an empty parent cgroup.",
                    _ => CgroupFiles.FixFor(e.Errno),
                };
                throw new CgroupException($"enable the {controller} controller for sandbox cgroups (writing '+{controller}')", file, e.Errno, fix, e);
            }
        }
    }

    private void MoveProcessesToLeaf(string directory)
    {
        string leaf = CgroupPaths.Join(directory, CgroupLayoutDetector.HostLeafName);
        if (!_fileSystem.Exists(leaf))
        {
            try
            {
                _fileSystem.CreateDirectory(leaf);
            }
            catch (CgroupIOException e) when (e.Errno == CgroupIOException.EEXIST)
            {
            }
            catch (CgroupIOException e)
            {
                throw new CgroupException("create the leaf for the host's processes", leaf, e.Errno, CgroupFiles.FixFor(e.Errno), e);
            }
        }
        foreach (int pid in CgroupFiles.ReadPids(_fileSystem, directory + "/cgroup.procs"))
        {
            try
            {
                _fileSystem.WriteText(leaf + "/cgroup.procs", pid.ToString(CultureInfo.InvariantCulture));
            }
            catch (CgroupIOException e) when (e.Errno == CgroupIOException.ESRCH)
            {
                // Exited meanwhile.
            }
            catch (CgroupIOException e)
            {
                throw new CgroupException($"move process {pid} into the host's leaf cgroup", leaf + "/cgroup.procs", e.Errno, CgroupFiles.FixFor(e.Errno), e);
            }
        }
    }

    private void TryRemove(string directory)
    {
        try
        {
            _fileSystem.RemoveDirectory(directory);
        }
        catch (CgroupIOException)
        {
            // Best effort: a later RemoveStaleAsync finds it once this host has exited.
        }
    }
}
