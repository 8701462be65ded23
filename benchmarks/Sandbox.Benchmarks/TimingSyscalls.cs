using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using Sandbox.Interop;

namespace Sandbox.Benchmarks;

/// <summary>The real system calls, with the times of the launch and of the first reap attempt recorded.</summary>
internal sealed class TimingSyscalls(ISyscalls inner) : ISyscalls
{
    public long LaunchStart { get; private set; }
    public long LaunchEnd { get; private set; }
    public long FirstReap { get; private set; }

    public uint EffectiveUserId => inner.EffectiveUserId;
    public uint EffectiveGroupId => inner.EffectiveGroupId;

    public void Reset() => LaunchStart = LaunchEnd = FirstReap = 0;

    public (SafeFileHandle Read, SafeFileHandle Write) CreatePipe() => inner.CreatePipe();

    public SafeFileHandle OpenExecutable(string path) => inner.OpenExecutable(path);

    public NativeLaunchResult Launch(ReadOnlySpan<byte> plan)
    {
        LaunchStart = Stopwatch.GetTimestamp();
        var result = inner.Launch(plan);
        LaunchEnd = Stopwatch.GetTimestamp();
        return result;
    }

    public void SendSignal(PidfdHandle process, int signal) => inner.SendSignal(process, signal);

    public bool TryReap(PidfdHandle process, out WaitStatus status)
    {
        if (FirstReap == 0) FirstReap = Stopwatch.GetTimestamp();
        return inner.TryReap(process, out status);
    }

    public int ReadAvailable(SafeFileHandle handle, Span<byte> buffer) => inner.ReadAvailable(handle, buffer);

    public SafeFileHandle? TryCreateNetworkNamespace(out int errno) => inner.TryCreateNetworkNamespace(out errno);

    public bool MakeCurrentThreadIdle() => inner.MakeCurrentThreadIdle();

    public SafeFileHandle CreateUserNamespace(string uidMap, string gidMap) => inner.CreateUserNamespace(uidMap, gidMap);

    public SafeFileHandle OpenIdmappedTree(string directory, SafeFileHandle userNamespace) => inner.OpenIdmappedTree(directory, userNamespace);

    public SafeFileHandle CloneTree(SafeFileHandle tree) => inner.CloneTree(tree);

    public SafeFileHandle? TryCreateRootNamespace(SafeFileHandle tree, string staging, out NativeSetupError? error) => inner.TryCreateRootNamespace(tree, staging, out error);

    public SafeFileHandle? TryBuildRootTemplate(ReadOnlySpan<byte> plan, out NativeSetupError? error) => inner.TryBuildRootTemplate(plan, out error);

    public SafeFileHandle CreateSealedMemoryFile(string name, ReadOnlySpan<byte> contents) => inner.CreateSealedMemoryFile(name, contents);

    public IReadOnlyList<string> ReadKernelLog() => inner.ReadKernelLog();
}
