using System.Runtime.InteropServices;

namespace Sandbox.Interop;

/// <summary>Exceptions for host-side system calls that failed.</summary>
internal static class Errors
{
    public static SandboxException Host(string action, int errno, string? path = null)
    {
        string where = path is null ? "" : $" '{path}'";
        return new SandboxException(
            $"Sandbox host could not {action}{where}: {ErrnoNames.Of(errno)} ({Marshal.GetPInvokeErrorMessage(errno)}).");
    }
}
