namespace Sandbox.Seccomp;

/// <summary>errno values for <see cref="SeccompAction.Errno"/> (Linux numbering, the same on x86_64 and aarch64).</summary>
public static class LinuxErrno
{
    /// <summary>Operation not permitted.</summary>
    public const int EPERM = 1;
    /// <summary>No such file or directory.</summary>
    public const int ENOENT = 2;
    /// <summary>Permission denied.</summary>
    public const int EACCES = 13;
    /// <summary>Invalid argument.</summary>
    public const int EINVAL = 22;
    /// <summary>Function not implemented: what libc takes as "the kernel lacks this syscall" and falls back from.</summary>
    public const int ENOSYS = 38;
    /// <summary>Operation not supported.</summary>
    public const int EOPNOTSUPP = 95;
    /// <summary>Address family not supported by protocol.</summary>
    public const int EAFNOSUPPORT = 97;
}
