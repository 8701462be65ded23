namespace Sandbox.Cgroups;

/// <summary>Sends SIGKILL to processes by pid: the v1 kill loop's (and the v2 fallback's) only way to signal.</summary>
internal interface IProcessKiller
{
    /// <summary>Sends SIGKILL to <paramref name="pid"/>; a process that is already gone is not an error.</summary>
    /// <remarks>Only for pids that cannot be reused meanwhile (frozen tasks): a pid is signalled as it is.</remarks>
    void Kill(int pid);

    /// <summary>
    /// Sends SIGKILL to each of <paramref name="pids"/> that is still a member after being pinned: each process is pinned
    /// first (a pidfd), then <paramref name="members"/> is read again, and only pids listed there are signalled, through
    /// their pidfd. A pinned process still alive when listed is the one listed, so a pid reused by a process outside the
    /// cgroup between listing and signalling is never signalled. For tasks that are not frozen.
    /// </summary>
    void KillMembers(IReadOnlyList<int> pids, Func<IReadOnlyList<int>> members)
    {
        var listed = members().ToHashSet();
        foreach (int pid in pids.Where(listed.Contains))
        {
            Kill(pid);
        }
    }
}
