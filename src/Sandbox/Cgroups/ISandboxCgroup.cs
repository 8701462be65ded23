namespace Sandbox.Cgroups;

/// <summary>
/// One sandbox's cgroup (v2: one directory; v1: one directory per hierarchy), created with its limits by
/// <see cref="ICgroupDriver.Create"/>. The sandbox's first process joins it before it runs user code, and everything it
/// forks stays in it; the host reads accounting from it, kills everything in it, and removes it.
/// </summary>
internal interface ISandboxCgroup
{
    /// <summary>The cgroup's name (the same in every v1 hierarchy).</summary>
    string Name { get; }

    /// <summary>1 or 2.</summary>
    int Version { get; }

    /// <summary>v2: the cgroup's directory, to open for clone3's CLONE_INTO_CGROUP; null on v1.</summary>
    string? UnifiedDirectory { get; }

    /// <summary>
    /// v2: an fd (O_PATH) of the cgroup's directory, for the launcher to clone the sandbox's first process into it with
    /// clone3's CLONE_INTO_CGROUP; the caller closes it once the launch is over. Null on v1, whose hierarchies are joined
    /// through <see cref="ProcsFiles"/> only.
    /// </summary>
    Microsoft.Win32.SafeHandles.SafeFileHandle? OpenDirectoryForClone();

    /// <summary>Every cgroup.procs a process must be written into to join (one on v2, one per hierarchy on v1).</summary>
    IReadOnlyList<string> ProcsFiles { get; }

    /// <summary>The limits in place and the files that enforce them.</summary>
    IReadOnlyList<CgroupEnforcedLimit> Enforced { get; }

    /// <summary>Moves process <paramref name="pid"/> (with all its threads) into the cgroup, in every hierarchy.</summary>
    void AddProcess(int pid);

    /// <summary>The pids in the cgroup and its descendants.</summary>
    IReadOnlyList<int> ReadProcesses();

    /// <summary>Whether any process is left (v2 cgroup.events populated; v1 cgroup.procs).</summary>
    bool IsPopulated();

    /// <summary>
    /// Opens the files <see cref="ReadUsage"/> reads ahead of time (<see cref="ICgroupFileSystem.KeepOpen"/>), for a cgroup
    /// made before its sandbox exists: the read after the run is then one pread per file. Nothing where not worth it.
    /// </summary>
    void KeepAccountingFilesOpen()
    {
    }

    /// <summary>
    /// Opens each of <see cref="ProcsFiles"/> for writing ahead of time, for a cgroup made before its sandbox exists: the
    /// launcher's child then joins with one write per file (<see cref="JoinFiles"/>) instead of an open, a write and a
    /// close. Nothing where the cgroup is joined otherwise (v2: clone3 into it).
    /// </summary>
    void OpenJoinFiles()
    {
    }

    /// <summary>
    /// The files <see cref="OpenJoinFiles"/> opened, one per <see cref="ProcsFiles"/> entry and in its order, or empty.
    /// They stay open until the cgroup is removed.
    /// </summary>
    IReadOnlyList<Microsoft.Win32.SafeHandles.SafeFileHandle> JoinFiles => [];

    /// <summary>CPU, memory, OOM and pids accounting as the kernel reports it now.</summary>
    CgroupUsage ReadUsage();

    /// <summary>The CPU time of every process and thread so far (the CPU controller alone: cheap enough to poll).</summary>
    TimeSpan? ReadCpuTime();

    /// <summary>
    /// Kills every process in the cgroup, including ones forking while it runs (v2 cgroup.kill; v1 freeze, SIGKILL each
    /// pid, thaw, until empty), and waits until the cgroup is empty.
    /// </summary>
    Task KillAsync(CancellationToken cancellationToken = default);

    /// <summary>Removes the cgroup (and any child cgroups), retrying briefly while the kernel still reports it busy.</summary>
    Task RemoveAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Kills whatever is left and removes the cgroup, at the end of its sandbox. rmdir comes first: the kernel refuses it
    /// (EBUSY) while any process or child cgroup is left, so its success proves there was nothing to kill and nothing can
    /// join any more; only a refusal leads to <see cref="KillAsync"/> and <see cref="RemoveAsync"/>.
    /// </summary>
    Task DestroyAsync(CancellationToken cancellationToken = default);
}
