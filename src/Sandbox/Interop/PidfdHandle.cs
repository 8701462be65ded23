using System.Runtime.InteropServices;

namespace Sandbox.Interop;

/// <summary>An owned pidfd: the handle by which the host tracks a sandbox's init.</summary>
internal sealed class PidfdHandle : SafeHandle
{
    public PidfdHandle(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    public override bool IsInvalid => handle == -1;

    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => Tmds.Linux.LibC.close((int)handle) == 0;
}
