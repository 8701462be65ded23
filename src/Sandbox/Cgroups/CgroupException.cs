namespace Sandbox.Cgroups;

/// <summary>A cgroup could not be created, limited, killed or removed: what, where, the errno and how to fix it.</summary>
internal sealed class CgroupException : SandboxException
{
    public CgroupException(string what, string? path, int errno, string fix, Exception? innerException = null)
        : base(Format(what, path, errno, fix), innerException)
    {
        What = what;
        Path = path;
        Errno = errno;
        Fix = fix;
    }

    /// <summary>What failed, e.g. "set the memory limit".</summary>
    public string What { get; }

    /// <summary>The cgroup file or directory involved.</summary>
    public string? Path { get; }

    /// <summary>The errno (0 if none).</summary>
    public int Errno { get; }

    /// <summary>What to do about it.</summary>
    public string Fix { get; }

    private static string Format(string what, string? path, int errno, string fix)
    {
        string where = path is null ? "" : $" ({path})";
        string err = errno == 0 ? "" : $": {Interop.ErrnoNames.Of(errno)}";
        return $"Could not {what}{where}{err}. Fix: {fix}";
    }
}
