using Sandbox.Interop;

namespace Sandbox.Tests.Fakes;

/// <summary>
/// A host file system made of a table: what each path is, what each link says and what each text file
/// holds. The files it reads are recorded, so a test can say what the planner must not look at.
/// </summary>
internal sealed class FakeHostFileSystem : IHostFileSystem
{
    private readonly Dictionary<string, HostFileKind> _kinds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _links = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _texts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _inodes = new(StringComparer.Ordinal);

    /// <summary>The paths whose text was read, in order.</summary>
    public List<string> TextReads { get; } = [];

    /// <summary>A host with /tmp to stage on and a split /usr: /usr, /bin, /lib, /lib64, /sbin are real directories.</summary>
    public static FakeHostFileSystem SplitUsr() =>
        new FakeHostFileSystem()
            .Directory("/tmp")
            .Directory("/usr").Directory("/bin").Directory("/lib").Directory("/lib64").Directory("/sbin");

    /// <summary>A merged-/usr host: /bin, /lib, /lib64 and /sbin are symlinks into usr/.</summary>
    public static FakeHostFileSystem MergedUsr() =>
        new FakeHostFileSystem()
            .Directory("/tmp")
            .Directory("/usr")
            .Symlink("/bin", "usr/bin").Symlink("/lib", "usr/lib").Symlink("/lib64", "usr/lib64").Symlink("/sbin", "usr/sbin");

    public FakeHostFileSystem Directory(string path) => Kind(path, HostFileKind.Directory);

    public FakeHostFileSystem File(string path, string? text = null)
    {
        if (text is not null) _texts[path] = text;
        return Kind(path, HostFileKind.RegularFile);
    }

    public FakeHostFileSystem Symlink(string path, string linkText)
    {
        _links[path] = linkText;
        return Kind(path, HostFileKind.Symlink);
    }

    public FakeHostFileSystem CharacterDevice(string path) => Kind(path, HostFileKind.CharacterDevice);

    public FakeHostFileSystem Kind(string path, HostFileKind kind)
    {
        _kinds[path] = kind;
        return this;
    }

    public FakeHostFileSystem Remove(string path)
    {
        _kinds.Remove(path);
        _links.Remove(path);
        _texts.Remove(path);
        return this;
    }

    public HostFileKind GetKind(string path) => GetKind(path, out _);

    public HostFileKind GetKind(string path, out FileIdentity identity)
    {
        var kind = _kinds.GetValueOrDefault(path, HostFileKind.Missing);
        identity = kind == HostFileKind.Missing ? default : new FileIdentity(1, _inodes.GetValueOrDefault(path, (ulong)(uint)StringComparer.Ordinal.GetHashCode(path)));
        return kind;
    }

    /// <summary>Puts another file at <paramref name="path"/> (same kind, new inode), as a rename over it would.</summary>
    public FakeHostFileSystem Replace(string path)
    {
        _inodes[path] = _inodes.GetValueOrDefault(path, (ulong)(uint)StringComparer.Ordinal.GetHashCode(path)) + 1;
        return this;
    }

    public string ReadLink(string path)
    {
        return _links.TryGetValue(path, out var text)
            ? text
            : throw new InvalidOperationException($"The planner read the link '{path}', which the fake host does not have as a symlink.");
    }

    public string? TryReadText(string path)
    {
        TextReads.Add(path);
        return _texts.GetValueOrDefault(path);
    }
}
