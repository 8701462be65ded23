namespace Sandbox;

/// <summary>The Linux namespaces a sandbox gets. Every one is on by default; opting out is explicit.</summary>
[Flags]
public enum SandboxNamespaces
{
    /// <summary>No new namespace.</summary>
    None = 0,
    /// <summary>A user namespace: ids are mapped, capabilities are confined to the sandbox.</summary>
    User = 1 << 0,
    /// <summary>A PID namespace: the sandbox sees only its own processes and its init is PID 1.</summary>
    Pid = 1 << 1,
    /// <summary>A mount namespace with its own root file system.</summary>
    Mount = 1 << 2,
    /// <summary>A network namespace with only loopback up.</summary>
    Network = 1 << 3,
    /// <summary>An IPC namespace: System V IPC and POSIX message queues of its own.</summary>
    Ipc = 1 << 4,
    /// <summary>A UTS namespace: its own hostname.</summary>
    Uts = 1 << 5,
    /// <summary>A cgroup namespace: its cgroup appears as the root.</summary>
    Cgroup = 1 << 6,
    /// <summary>All of the above.</summary>
    All = User | Pid | Mount | Network | Ipc | Uts | Cgroup,
}
