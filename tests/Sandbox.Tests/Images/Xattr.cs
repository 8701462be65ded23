using System.Text;
using Sandbox.Interop;

namespace Sandbox.Tests.Images;

/// <summary>lgetxattr for assertions.</summary>
internal static unsafe class Xattr
{
    public static string? Get(string path, string name)
    {
        byte[] buffer = new byte[256];
        nint n;
        fixed (byte* p = LinuxSyscalls.NulTerminated(path))
        fixed (byte* k = LinuxSyscalls.NulTerminated(name))
        fixed (byte* v = buffer)
            n = FileSystemCalls.Lgetxattr(p, k, v, (nuint)buffer.Length);
        return n < 0 ? null : Encoding.UTF8.GetString(buffer, 0, (int)n);
    }
}
