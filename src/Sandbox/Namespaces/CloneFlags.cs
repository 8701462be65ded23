namespace Sandbox.Namespaces;

/// <summary>The CLONE_NEW* flags for a set of namespaces.</summary>
internal static class CloneFlags
{
    public const ulong NewNs = 0x00020000;
    public const ulong NewCgroup = 0x02000000;
    public const ulong NewUts = 0x04000000;
    public const ulong NewIpc = 0x08000000;
    public const ulong NewUser = 0x10000000;
    public const ulong NewPid = 0x20000000;
    public const ulong NewNet = 0x40000000;

    public static ulong For(SandboxNamespaces namespaces)
    {
        ulong flags = 0;
        if (namespaces.HasFlag(SandboxNamespaces.User)) flags |= NewUser;
        if (namespaces.HasFlag(SandboxNamespaces.Pid)) flags |= NewPid;
        if (namespaces.HasFlag(SandboxNamespaces.Mount)) flags |= NewNs;
        if (namespaces.HasFlag(SandboxNamespaces.Network)) flags |= NewNet;
        if (namespaces.HasFlag(SandboxNamespaces.Ipc)) flags |= NewIpc;
        if (namespaces.HasFlag(SandboxNamespaces.Uts)) flags |= NewUts;
        if (namespaces.HasFlag(SandboxNamespaces.Cgroup)) flags |= NewCgroup;
        return flags;
    }
}
