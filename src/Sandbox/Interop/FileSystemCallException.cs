namespace Sandbox.Interop;

/// <summary>A file-system call failed: the call, the path it worked on (relative to its directory) and the errno.</summary>
internal sealed class FileSystemCallException : IOException
{
    public FileSystemCallException(string call, string path, int errno)
        : base($"{call} '{path}' failed: {ErrnoNames.Of(errno)} ({System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)})")
    {
        Call = call;
        Path = path;
        Errno = errno;
        HResult = errno;
    }

    /// <summary>The call, e.g. "mkdirat".</summary>
    public string Call { get; }

    /// <summary>The path, relative to the confined directory.</summary>
    public string Path { get; }

    /// <summary>The errno.</summary>
    public int Errno { get; }
}
