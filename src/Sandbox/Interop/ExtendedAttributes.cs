using System.Runtime.InteropServices;
using System.Text;

namespace Sandbox.Interop;

/// <summary>Reading xattrs without following a final symlink (lgetxattr): overlay markers, for checks and tests.</summary>
internal static unsafe class ExtendedAttributes
{
    /// <summary>The value of <paramref name="name"/> on <paramref name="path"/>, or null if it has none (or cannot be read).</summary>
    public static byte[]? TryGet(string path, string name)
    {
        byte[] buffer = new byte[4096];
        nint n;
        fixed (byte* p = LinuxSyscalls.NulTerminated(path))
        fixed (byte* k = LinuxSyscalls.NulTerminated(name))
        fixed (byte* v = buffer)
            n = FileSystemCalls.Lgetxattr(p, k, v, (nuint)buffer.Length);
        if (n < 0)
        {
            _ = Marshal.GetLastPInvokeError();
            return null;
        }
        return buffer[..(int)n];
    }

    /// <summary>lsetxattr: sets <paramref name="name"/> on <paramref name="path"/> (not following a final symlink).</summary>
    public static void Set(string path, string name, ReadOnlySpan<byte> value)
    {
        int r;
        fixed (byte* p = LinuxSyscalls.NulTerminated(path))
        fixed (byte* k = LinuxSyscalls.NulTerminated(name))
        fixed (byte* v = value)
            r = FileSystemCalls.Lsetxattr(p, k, v, (nuint)value.Length, 0);
        if (r != 0)
            throw new FileSystemCallException($"lsetxattr {name}", path, Marshal.GetLastPInvokeError());
    }

    /// <summary>The value as UTF-8 text, or null.</summary>
    public static string? TryGetText(string path, string name) => TryGet(path, name) is { } value ? Encoding.UTF8.GetString(value) : null;
}
