namespace Sandbox.Cgroups;

/// <summary>Sends SIGKILL to a process by pid: the v1 kill loop's (and the v2 fallback's) only way to signal.</summary>
internal interface IProcessKiller
{
    /// <summary>Sends SIGKILL to <paramref name="pid"/>; a process that is already gone is not an error.</summary>
    void Kill(int pid);
}
