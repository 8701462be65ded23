namespace Sandbox.Cgroups;

/// <summary>A cgroup file operation failed: the errno the kernel returned and the path.</summary>
internal sealed class CgroupIOException : IOException
{
    /// <summary>Operation not permitted.</summary>
    public const int EPERM = 1;
    /// <summary>No such file or directory.</summary>
    public const int ENOENT = 2;
    /// <summary>No such process.</summary>
    public const int ESRCH = 3;
    /// <summary>I/O error.</summary>
    public const int EIO = 5;
    /// <summary>Permission denied.</summary>
    public const int EACCES = 13;
    /// <summary>Device or resource busy.</summary>
    public const int EBUSY = 16;
    /// <summary>File exists.</summary>
    public const int EEXIST = 17;
    /// <summary>Not a directory.</summary>
    public const int ENOTDIR = 20;
    /// <summary>Is a directory.</summary>
    public const int EISDIR = 21;
    /// <summary>Invalid argument.</summary>
    public const int EINVAL = 22;
    /// <summary>No space left (cgroup v1 cpuset: no cpus or mems set).</summary>
    public const int ENOSPC = 28;
    /// <summary>Directory not empty.</summary>
    public const int ENOTEMPTY = 39;
    /// <summary>Operation not supported.</summary>
    public const int EOPNOTSUPP = 95;

    public CgroupIOException(string operation, string path, int errno, Exception? innerException = null)
        : base($"Could not {operation} '{path}': {Interop.ErrnoNames.Of(errno)}.", innerException)
    {
        Operation = operation;
        Path = path;
        Errno = errno;
        HResult = errno;
    }

    /// <summary>What was attempted: "read", "write 12 to", "create", "remove", ...</summary>
    public string Operation { get; }

    /// <summary>The file or directory.</summary>
    public string Path { get; }

    /// <summary>The errno.</summary>
    public int Errno { get; }
}
