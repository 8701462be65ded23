using Microsoft.Win32.SafeHandles;
using Sandbox.Interop;
using Sandbox.Launch;

namespace Sandbox.Tests.Fakes;

/// <summary>
/// A kernel that hands out numbered stand-in file descriptors (never real ones: nothing is closed for real),
/// records every plan it is asked to launch, and answers with what the test decides.
/// </summary>
internal sealed class FakeSyscalls(uint euid, Func<LaunchPlan, NativeLaunchResult> launch) : ISyscalls
{
    private int _nextFd = 900;

    public uint EffectiveUserId => euid;

    public uint EffectiveGroupId => euid;

    /// <summary>Every handle handed out, pipe ends and executables alike.</summary>
    public List<SafeFileHandle> Handles { get; } = [];

    /// <summary>The pipes created, as (read, write).</summary>
    public List<(SafeFileHandle Read, SafeFileHandle Write)> Pipes { get; } = [];

    /// <summary>The executables opened.</summary>
    public List<string> Executables { get; } = [];

    /// <summary>The plans launched, as read back from the bytes the launcher got.</summary>
    public List<LaunchPlan> Launched { get; } = [];

    public (SafeFileHandle Read, SafeFileHandle Write) CreatePipe()
    {
        var pipe = (NewHandle(), NewHandle());
        Pipes.Add(pipe);
        return pipe;
    }

    public SafeFileHandle OpenExecutable(string path)
    {
        Executables.Add(path);
        return NewHandle();
    }

    public NativeLaunchResult Launch(ReadOnlySpan<byte> plan)
    {
        var read = PlanReader.Read(plan);
        lock (Launched) Launched.Add(read);
        return launch(read);
    }

    /// <summary>The errno the fake gives when asked for a network namespace; 0 hands one out.</summary>
    public int NetworkNamespaceErrno { get; set; }

    /// <summary>The network namespaces handed out (stand-in handles).</summary>
    public List<SafeFileHandle> NetworkNamespaces { get; } = [];

    /// <summary>How many threads asked to run at idle priority.</summary>
    public int IdleThreads => Volatile.Read(ref _idleThreads);

    private int _idleThreads;

    public bool MakeCurrentThreadIdle()
    {
        Interlocked.Increment(ref _idleThreads);
        return true;
    }

    public SafeFileHandle? TryCreateNetworkNamespace(out int errno)
    {
        errno = NetworkNamespaceErrno;
        if (errno != 0)
            return null;
        var handle = NewHandle();
        lock (NetworkNamespaces) NetworkNamespaces.Add(handle);
        return handle;
    }

    /// <summary>The user namespaces made, as (uid_map, gid_map, handle).</summary>
    public List<(string UidMap, string GidMap, SafeFileHandle Handle)> UserNamespaces { get; } = [];

    /// <summary>The idmapped mounts made, as (directory, the user namespace's handle, the mount's handle).</summary>
    public List<(string Directory, SafeFileHandle UserNamespace, SafeFileHandle Tree)> IdmappedTrees { get; } = [];

    /// <summary>The per-launch copies made, as (the mount copied, the copy).</summary>
    public List<(SafeFileHandle Tree, SafeFileHandle Copy)> TreeCopies { get; } = [];

    /// <summary>A directory whose idmapped mount the fake refuses (EPERM), or null.</summary>
    public string? RefuseIdmapOf { get; set; }

    public SafeFileHandle CreateUserNamespace(string uidMap, string gidMap)
    {
        var handle = new SafeFileHandle(_nextFd++, ownsHandle: false);
        lock (UserNamespaces) UserNamespaces.Add((uidMap, gidMap, handle));
        return handle;
    }

    public SafeFileHandle OpenIdmappedTree(string directory, SafeFileHandle userNamespace)
    {
        if (directory == RefuseIdmapOf)
            throw new SandboxException($"Sandbox host could not idmap the image layer '{directory}': EPERM (fake).");
        var handle = new SafeFileHandle(_nextFd++, ownsHandle: false);
        lock (IdmappedTrees) IdmappedTrees.Add((directory, userNamespace, handle));
        return handle;
    }

    /// <summary>
    /// What <see cref="TryBuildRootTemplate"/> answers: null (the default) builds a stand-in tree; an error refuses, as a kernel
    /// would. The default for a fake host is a refusal like a rootless host's, so plans reach the launcher whole.
    /// </summary>
    public NativeSetupError? RootTemplateError { get; set; } = new(Sandbox.Launch.SetupStage.MountRoot, 1, -1, "fsopen(tmpfs)");

    /// <summary>Stand-in trees that are real fds (of /dev/null), so that a test can see when one is closed.</summary>
    public bool RootTemplatesOpenDevNull { get; set; }

    /// <summary>The root templates built, as read back from the bytes the builder got, with the stand-in tree of each.</summary>
    public List<(LaunchPlan Plan, SafeFileHandle Tree)> RootTemplates { get; } = [];

    public SafeFileHandle? TryBuildRootTemplate(ReadOnlySpan<byte> plan, out NativeSetupError? error)
    {
        var read = PlanReader.Read(plan);
        error = RootTemplateError;
        if (error is not null)
            return null;
        var tree = RootTemplatesOpenDevNull ? File.OpenHandle("/dev/null") : new SafeFileHandle(Interlocked.Increment(ref _nextFd), ownsHandle: false);
        lock (RootTemplates) RootTemplates.Add((read, tree));
        return tree;
    }

    /// <summary>What <see cref="TryCreateRootNamespace"/> answers: null (the default) hands out a stand-in namespace; an error refuses.</summary>
    public NativeSetupError? RootNamespaceError { get; set; }

    /// <summary>The root namespaces made, with the template each was made from.</summary>
    public List<(SafeFileHandle Tree, SafeFileHandle Namespace)> RootNamespaces { get; } = [];

    public SafeFileHandle? TryCreateRootNamespace(SafeFileHandle tree, string staging, out NativeSetupError? error)
    {
        error = RootNamespaceError;
        if (error is not null)
            return null;
        var ns = new SafeFileHandle(Interlocked.Increment(ref _nextFd), ownsHandle: false);
        lock (RootNamespaces) RootNamespaces.Add((tree, ns));
        return ns;
    }

    public SafeFileHandle CloneTree(SafeFileHandle tree)
    {
        var handle = new SafeFileHandle(_nextFd++, ownsHandle: false);
        lock (TreeCopies) TreeCopies.Add((tree, handle));
        return handle;
    }

    /// <summary>The sealed memory files created, by name, with their contents.</summary>
    public List<(string Name, byte[] Contents, SafeFileHandle Handle)> MemoryFiles { get; } = [];

    /// <summary>What <see cref="ReadKernelLog"/> returns.</summary>
    public List<string> KernelLog { get; } = [];

    public SafeFileHandle CreateSealedMemoryFile(string name, ReadOnlySpan<byte> contents)
    {
        var handle = NewHandle();
        lock (MemoryFiles) MemoryFiles.Add((name, contents.ToArray(), handle));
        return handle;
    }

    public IReadOnlyList<string> ReadKernelLog() => [.. KernelLog];

    public void SendSignal(PidfdHandle process, int signal) => throw new NotSupportedException("The fake kernel runs no process.");

    public bool TryReap(PidfdHandle process, out WaitStatus status) => throw new NotSupportedException("The fake kernel runs no process.");

    public int ReadAvailable(SafeFileHandle handle, Span<byte> buffer) => throw new NotSupportedException("The fake kernel runs no process.");

    private SafeFileHandle NewHandle()
    {
        var handle = new SafeFileHandle(_nextFd++, ownsHandle: false);
        Handles.Add(handle);
        return handle;
    }
}
