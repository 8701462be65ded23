using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Sandbox.Cgroups.V1;

/// <summary>A sandbox's cgroup on v1: a directory of the same name in each hierarchy it uses.</summary>
internal sealed class CgroupV1SandboxCgroup : ISandboxCgroup
{
    private readonly ICgroupFileSystem _fileSystem;
    private readonly IProcessKiller _killer;
    private readonly CgroupOptions _options;
    private readonly TimeProvider _time;
    private SafeFileHandle[] _joinFiles = [];

    public CgroupV1SandboxCgroup(
        ICgroupFileSystem fileSystem, string name, IReadOnlyList<CgroupV1Placement> placements, IReadOnlyList<CgroupEnforcedLimit> enforced,
        IProcessKiller killer, CgroupOptions options, TimeProvider time)
    {
        _fileSystem = fileSystem;
        Name = name;
        Placements = placements;
        Enforced = enforced;
        _killer = killer;
        _options = options;
        _time = time;
    }

    /// <summary>The cgroup's directory in each hierarchy.</summary>
    public IReadOnlyList<CgroupV1Placement> Placements { get; }

    public string Name { get; }

    public int Version => 1;

    public string? UnifiedDirectory => null;

    public Microsoft.Win32.SafeHandles.SafeFileHandle? OpenDirectoryForClone() => null;

    public IReadOnlyList<string> ProcsFiles => _procsFiles ??= [.. Placements.Select(p => p.Directory + "/cgroup.procs")];

    private string[]? _procsFiles; // the placements never change: made once, read at every launch

    public IReadOnlyList<CgroupEnforcedLimit> Enforced { get; }

    /// <summary>The directory in the hierarchy holding <paramref name="controller"/>, or null if this cgroup does not use it.</summary>
    public string? DirectoryOf(string controller) =>
        Placements.FirstOrDefault(p => p.Controllers.Contains(controller, StringComparer.Ordinal))?.Directory;

    public void AddProcess(int pid)
    {
        string text = pid.ToString(CultureInfo.InvariantCulture);
        foreach (string procs in ProcsFiles)
        {
            CgroupFiles.Write(_fileSystem, procs, text, "move a process into the sandbox cgroup");
        }
    }

    public IReadOnlyList<int> ReadProcesses() =>
        [.. Placements.SelectMany(p => CgroupFiles.ReadPidsRecursive(_fileSystem, p.Directory)).Distinct()];

    public bool IsPopulated() => ReadProcesses().Count > 0;

    public TimeSpan? ReadCpuTime() =>
        DirectoryOf(V1CpuacctController.Name) is { } cpuacct
            ? V1CpuacctController.ReadUsage(_fileSystem, cpuacct, CgroupUsage.Empty).CpuTime
            : null;

    /// <summary>
    /// What the result reports, one file read per figure on the path from the sandbox's exit to its result: CPU time
    /// (cpuacct), peak memory and OOM kills (memory), peak processes (pids). The counters v1 keeps in files of their
    /// own (memory.failcnt, pids.events, cpu.stat's throttling) are not read: no result reports them.
    /// </summary>
    public void KeepAccountingFilesOpen()
    {
        var files = new List<string>();
        if (DirectoryOf(V1CpuacctController.Name) is { } cpuacct)
            files.AddRange(V1CpuacctController.UsageFiles.Select(f => cpuacct + "/" + f));
        if (DirectoryOf(V1MemoryController.Name) is { } memory)
            files.AddRange(V1MemoryController.UsageFiles.Select(f => memory + "/" + f));
        if (DirectoryOf(PidsController.Name) is { } pids)
            files.AddRange(PidsController.UsageFiles.Select(f => pids + "/" + f));
        _fileSystem.KeepOpen(files);
    }

    public void OpenJoinFiles()
    {
        var opened = new List<SafeFileHandle>();
        try
        {
            foreach (string procs in ProcsFiles)
                opened.Add(_fileSystem.OpenForWriting(procs));
        }
        catch (CgroupIOException e)
        {
            foreach (var handle in opened) handle.Dispose();
            throw new CgroupException("open cgroup.procs for the sandbox's join", e.Path, e.Errno, CgroupFiles.FixFor(e.Errno), e);
        }
        CloseJoinFiles();
        _joinFiles = [.. opened];
    }

    public IReadOnlyList<SafeFileHandle> JoinFiles => _joinFiles;

    /// <summary>Closes the files <see cref="OpenJoinFiles"/> opened (the child opens the paths then).</summary>
    public void CloseJoinFiles()
    {
        foreach (var handle in Interlocked.Exchange(ref _joinFiles, []))
            handle.Dispose();
    }

    public CgroupUsage ReadUsage()
    {
        CgroupUsage usage = CgroupUsage.Empty;
        if (DirectoryOf(V1CpuacctController.Name) is { } cpuacct)
        {
            usage = V1CpuacctController.ReadUsage(_fileSystem, cpuacct, usage);
        }
        if (DirectoryOf(V1MemoryController.Name) is { } memory)
        {
            usage = V1MemoryController.ReadUsage(_fileSystem, memory, usage);
        }
        if (DirectoryOf(PidsController.Name) is { } pids)
        {
            usage = PidsController.ReadUsage(_fileSystem, pids, usage);
        }
        return usage;
    }

    /// <summary>
    /// With a freezer hierarchy: freeze (so nothing can fork or exit and no pid can be reused), SIGKILL every pid, thaw
    /// (the killed tasks die), and repeat until no process is left. Without one (the default: a sandbox's processes are
    /// also in its PID namespace, whose init dying makes the kernel kill every one of them and refuse new forks, so this
    /// is only a fallback): the same loop with each pid pinned by a pidfd and killed only if still listed, so a reused
    /// pid is never hit. Either way the sandbox's init is in the cgroup while it lives, so the first round kills it, and
    /// with it everything in its PID namespace; the loop ends only once the cgroup is empty.
    /// </summary>
    public async Task KillAsync(CancellationToken cancellationToken = default)
    {
        long start = _time.GetTimestamp();
        string? freezer = DirectoryOf(V1FreezerController.Name);
        if (freezer is not null && !_fileSystem.Exists(freezer))
        {
            freezer = null;
        }
        while (ReadProcesses().Count > 0)
        {
            TimeSpan left = _options.KillTimeout - _time.GetElapsedTime(start);
            if (left <= TimeSpan.Zero)
            {
                throw new CgroupException(
                    $"kill every process of the sandbox within {_options.KillTimeout.TotalMilliseconds:0} ms",
                    freezer ?? Placements[0].Directory, 0,
                    "A process is in uninterruptible sleep (D state); it dies once its I/O ends.");
            }
            if (freezer is not null)
            {
                V1FreezerController.Freeze(_fileSystem, freezer);
                // FREEZING lasts until every task has stopped; kill anyway if one never does (the loop comes back).
                await CgroupPolling.WaitUntilAsync(
                    () => V1FreezerController.ReadState(_fileSystem, freezer) == FreezerState.Frozen,
                    left, _options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
            }
            if (freezer is not null)
            {
                foreach (int pid in ReadProcesses())
                {
                    _killer.Kill(pid);
                }
                V1FreezerController.Thaw(_fileSystem, freezer);
            }
            else
            {
                _killer.KillMembers(ReadProcesses(), ReadProcesses);
            }
            await CgroupPolling.WaitUntilAsync(
                () => ReadProcesses().Count == 0, _options.PollInterval * 50, _options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task DestroyAsync(CancellationToken cancellationToken = default)
    {
        CloseJoinFiles();
        if (CgroupTree.TryRemoveEmpty(_fileSystem, Placements.Select(p => p.Directory)))
        {
            return;
        }
        await KillAsync(cancellationToken).ConfigureAwait(false);
        await RemoveAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveAsync(CancellationToken cancellationToken = default)
    {
        CloseJoinFiles();
        foreach (CgroupV1Placement placement in Placements)
        {
            await CgroupTree.RemoveAsync(_fileSystem, placement.Directory, _options, _time, cancellationToken).ConfigureAwait(false);
        }
    }
}
