using System.Globalization;

namespace Sandbox.Cgroups.V2;

/// <summary>A sandbox's cgroup on the unified hierarchy: one directory.</summary>
internal sealed class CgroupV2SandboxCgroup : ISandboxCgroup
{
    private readonly ICgroupFileSystem _fileSystem;
    private readonly IProcessKiller _killer;
    private readonly CgroupOptions _options;
    private readonly TimeProvider _time;
    private Microsoft.Win32.SafeHandles.SafeFileHandle[] _joinFiles = [];

    public CgroupV2SandboxCgroup(
        ICgroupFileSystem fileSystem, string directory, IReadOnlyList<CgroupEnforcedLimit> enforced,
        IProcessKiller killer, CgroupOptions options, TimeProvider time)
    {
        _fileSystem = fileSystem;
        Directory = directory;
        Enforced = enforced;
        _killer = killer;
        _options = options;
        _time = time;
    }

    /// <summary>The cgroup's directory.</summary>
    public string Directory { get; }

    public string Name => Directory[(Directory.LastIndexOf('/') + 1)..];

    public int Version => 2;

    public string? UnifiedDirectory => Directory;

    public IReadOnlyList<string> ProcsFiles => [Directory + "/cgroup.procs"];

    public Microsoft.Win32.SafeHandles.SafeFileHandle OpenDirectoryForClone()
    {
        try
        {
            return _fileSystem.OpenDirectory(Directory);
        }
        catch (CgroupIOException e)
        {
            throw new CgroupException("open the sandbox cgroup for clone3 (CLONE_INTO_CGROUP)", Directory, e.Errno, CgroupFiles.FixFor(e.Errno), e);
        }
    }

    public IReadOnlyList<CgroupEnforcedLimit> Enforced { get; }

    /// <summary>
    /// Opens cgroup.procs for the fallback join (a kernel without clone3 into a cgroup), so that the launch names no path
    /// the child must reach: it can then be cloned from inside a root template's namespace.
    /// </summary>
    public void OpenJoinFiles()
    {
        Microsoft.Win32.SafeHandles.SafeFileHandle opened;
        try
        {
            opened = _fileSystem.OpenForWriting(ProcsFiles[0]);
        }
        catch (CgroupIOException e)
        {
            throw new CgroupException("open cgroup.procs for the sandbox's join", e.Path, e.Errno, CgroupFiles.FixFor(e.Errno), e);
        }
        CloseJoinFiles();
        _joinFiles = [opened];
    }

    public IReadOnlyList<Microsoft.Win32.SafeHandles.SafeFileHandle> JoinFiles => _joinFiles;

    private void CloseJoinFiles()
    {
        foreach (var handle in Interlocked.Exchange(ref _joinFiles, []))
            handle.Dispose();
    }

    public void AddProcess(int pid) =>
        CgroupFiles.Write(_fileSystem, Directory + "/cgroup.procs", pid.ToString(CultureInfo.InvariantCulture), "move a process into the sandbox cgroup");

    public IReadOnlyList<int> ReadProcesses() => CgroupFiles.ReadPidsRecursive(_fileSystem, Directory);

    public bool IsPopulated() =>
        CgroupFiles.TryRead(_fileSystem, Directory + "/cgroup.events") is { } events
            ? CgroupEvents.Parse(events).Populated
            : ReadProcesses().Count > 0;

    public TimeSpan? ReadCpuTime() => V2CpuController.ReadUsage(_fileSystem, Directory, CgroupUsage.Empty).CpuTime;

    public CgroupUsage ReadUsage()
    {
        CgroupUsage usage = CgroupUsage.Empty;
        usage = V2CpuController.ReadUsage(_fileSystem, Directory, usage);
        usage = V2MemoryController.ReadUsage(_fileSystem, Directory, usage);
        usage = PidsController.ReadUsage(_fileSystem, Directory, usage);
        return usage;
    }

    public async Task KillAsync(CancellationToken cancellationToken = default)
    {
        if (!_fileSystem.Exists(Directory))
        {
            return;
        }
        long start = _time.GetTimestamp();
        if (_fileSystem.Exists(Directory + "/cgroup.kill"))
        {
            // Linux 5.14+: SIGKILL to every task in the subtree, atomically with respect to forks.
            CgroupFiles.Write(_fileSystem, Directory + "/cgroup.kill", "1", "kill the sandbox's processes");
        }
        else
        {
            await FreezeAndKillAsync(start, cancellationToken).ConfigureAwait(false);
        }
        TimeSpan left = _options.KillTimeout - _time.GetElapsedTime(start);
        if (!await CgroupPolling.WaitUntilAsync(() => !IsPopulated(), left, _options.PollInterval, _time, cancellationToken).ConfigureAwait(false))
        {
            throw new CgroupException(
                $"kill every process of the sandbox within {_options.KillTimeout.TotalMilliseconds:0} ms", Directory, 0,
                "A process is in uninterruptible sleep (D state); it dies once its I/O ends.");
        }
    }

    public async Task DestroyAsync(CancellationToken cancellationToken = default)
    {
        CloseJoinFiles();
        if (CgroupTree.TryRemoveEmpty(_fileSystem, [Directory]))
        {
            return;
        }
        await KillAsync(cancellationToken).ConfigureAwait(false);
        await RemoveAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task RemoveAsync(CancellationToken cancellationToken = default)
    {
        CloseJoinFiles();
        return CgroupTree.RemoveAsync(_fileSystem, Directory, _options, _time, cancellationToken);
    }

    /// <summary>Before cgroup.kill (Linux 5.2–5.13): freeze, SIGKILL every pid, thaw, until the cgroup is empty.</summary>
    private async Task FreezeAndKillAsync(long start, CancellationToken cancellationToken)
    {
        string freeze = Directory + "/cgroup.freeze";
        bool canFreeze = _fileSystem.Exists(freeze);
        while (ReadProcesses().Count > 0)
        {
            if (_time.GetElapsedTime(start) >= _options.KillTimeout)
            {
                return; // KillAsync reports the timeout.
            }
            if (canFreeze)
            {
                CgroupFiles.Write(_fileSystem, freeze, "1", "freeze the sandbox");
                await CgroupPolling.WaitUntilAsync(
                    () => CgroupFiles.TryRead(_fileSystem, Directory + "/cgroup.events") is not { } e || CgroupEvents.Parse(e).Frozen,
                    _options.KillTimeout - _time.GetElapsedTime(start), _options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
            }
            if (canFreeze)
            {
                foreach (int pid in ReadProcesses())
                {
                    _killer.Kill(pid);
                }
                CgroupFiles.Write(_fileSystem, freeze, "0", "thaw the sandbox");
            }
            else
            {
                _killer.KillMembers(ReadProcesses(), ReadProcesses);
            }
            await CgroupPolling.WaitUntilAsync(
                () => !IsPopulated(), _options.PollInterval * 50, _options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }
}
