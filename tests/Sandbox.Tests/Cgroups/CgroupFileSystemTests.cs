using Sandbox.Cgroups;

namespace Sandbox.Tests.Cgroups;

/// <summary>The real seam keeps mkdir/rmdir/write semantics and reports errnos (in a temporary directory; no root needed).</summary>
public sealed class CgroupFileSystemTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cgroupfs-test-").FullName;
    private readonly CgroupFileSystem _fs = CgroupFileSystem.Instance;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Create_directory_is_mkdir_not_mkdir_p()
    {
        _fs.CreateDirectory(_root + "/a");
        Assert.True(Directory.Exists(_root + "/a"));
        Assert.Equal(CgroupIOException.EEXIST, Assert.Throws<CgroupIOException>(() => _fs.CreateDirectory(_root + "/a")).Errno);
        Assert.Equal(CgroupIOException.ENOENT, Assert.Throws<CgroupIOException>(() => _fs.CreateDirectory(_root + "/x/y")).Errno);
        Assert.False(Directory.Exists(_root + "/x"));
    }

    [Fact]
    public void Remove_directory_is_rmdir_with_its_errno()
    {
        _fs.CreateDirectory(_root + "/a");
        File.WriteAllText(_root + "/a/f", "");
        CgroupIOException busy = Assert.Throws<CgroupIOException>(() => _fs.RemoveDirectory(_root + "/a"));
        Assert.Equal(CgroupIOException.ENOTEMPTY, busy.Errno);
        Assert.True(File.Exists(_root + "/a/f")); // never recursive
        File.Delete(_root + "/a/f");
        _fs.RemoveDirectory(_root + "/a");
        Assert.Equal(CgroupIOException.ENOENT, Assert.Throws<CgroupIOException>(() => _fs.RemoveDirectory(_root + "/a")).Errno);
    }

    [Fact]
    public void Write_text_neither_creates_nor_appends()
    {
        Assert.Equal(CgroupIOException.ENOENT, Assert.Throws<CgroupIOException>(() => _fs.WriteText(_root + "/pids.max", "16")).Errno);
        Assert.False(File.Exists(_root + "/pids.max"));
        File.WriteAllText(_root + "/pids.max", "max\n");
        _fs.WriteText(_root + "/pids.max", "16");
        // Written at offset 0, neither truncated nor appended: a regular file keeps its tail; cgroupfs parses each write.
        Assert.Equal("16x\n", _fs.ReadText(_root + "/pids.max"));
    }

    [Fact]
    public void Reads_report_a_missing_file_as_null_or_enoent()
    {
        Assert.Null(_fs.TryReadText(_root + "/nope"));
        Assert.Equal(CgroupIOException.ENOENT, Assert.Throws<CgroupIOException>(() => _fs.ReadText(_root + "/nope")).Errno);
    }

    [Fact]
    public void Directories_are_listed_by_name()
    {
        _fs.CreateDirectory(_root + "/b");
        _fs.CreateDirectory(_root + "/a");
        File.WriteAllText(_root + "/cgroup.procs", "");
        Assert.Equal(["a", "b"], _fs.ListDirectories(_root).Order());
        Assert.Empty(_fs.ListDirectories(_root + "/missing"));
        Assert.True(_fs.Exists(_root + "/cgroup.procs"));
    }

    [Fact]
    public void Can_write_asks_the_kernel_without_writing()
    {
        File.WriteAllText(_root + "/cgroup.procs", "42\n");
        Assert.True(_fs.CanWrite(_root + "/cgroup.procs"));
        Assert.Equal("42\n", File.ReadAllText(_root + "/cgroup.procs"));
        Assert.False(_fs.CanWrite(_root + "/missing"));
        Assert.True(_fs.CanWrite(_root)); // a directory whose cgroup.procs is writable and whose owner may write
        _fs.CreateDirectory(_root + "/no-procs");
        Assert.False(_fs.CanWrite(_root + "/no-procs")); // not a cgroup
    }

    [Fact]
    public void Paths_beneath_an_anchored_directory_resolve_against_the_open_directory()
    {
        var fs = new CgroupFileSystem();
        fs.CreateDirectory(_root + "/parent");
        fs.AnchorDirectory(_root + "/parent");
        fs.AnchorDirectory(_root + "/parent/"); // once per directory
        Assert.Equal(1, fs.AnchorCount);

        // Renaming the directory shows what the calls resolve against: the open directory, not the path's walk from /.
        Directory.Move(_root + "/parent", _root + "/moved");
        fs.CreateDirectory(_root + "/parent/sandbox-1");
        File.WriteAllText(_root + "/moved/sandbox-1/pids.max", "max\n");
        fs.WriteText(_root + "/parent/sandbox-1/pids.max", "16");

        Assert.Equal("16x\n", fs.ReadText(_root + "/parent/sandbox-1/pids.max"));
        Assert.True(fs.Exists(_root + "/parent/sandbox-1"));
        Assert.True(Directory.Exists(_root + "/moved/sandbox-1"));
        File.Delete(_root + "/moved/sandbox-1/pids.max");
        fs.RemoveDirectory(_root + "/parent/sandbox-1");
        Assert.False(Directory.Exists(_root + "/moved/sandbox-1"));
        // Errors still name the path the caller gave.
        var e = Assert.Throws<CgroupIOException>(() => fs.RemoveDirectory(_root + "/parent/sandbox-1"));
        Assert.Equal((CgroupIOException.ENOENT, _root + "/parent/sandbox-1"), (e.Errno, e.Path));
        // The directory itself and paths outside it are not resolved against it.
        Assert.False(fs.Exists(_root + "/parent"));
        Assert.Equal(CgroupIOException.ENOENT, Assert.Throws<CgroupIOException>(() => fs.AnchorDirectory(_root + "/missing")).Errno);
    }

    [Fact]
    public void Open_directory_gives_an_O_PATH_fd_of_that_directory_resolved_beneath_an_anchor()
    {
        var fs = new CgroupFileSystem();
        Directory.CreateDirectory(_root + "/parent/sandbox-1");
        File.WriteAllText(_root + "/parent/sandbox-1/cgroup.procs", "");
        fs.AnchorDirectory(_root + "/parent");
        // Renamed: the open resolves against the anchor, as every other call does.
        Directory.Move(_root + "/parent", _root + "/moved");

        using var handle = fs.OpenDirectory(_root + "/parent/sandbox-1");

        string fd = handle.DangerousGetHandle().ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(_root + "/moved/sandbox-1", new FileInfo("/proc/self/fd/" + fd).LinkTarget);
        Assert.Contains("flags:\t012200000\n", File.ReadAllText("/proc/self/fdinfo/" + fd), StringComparison.Ordinal); // O_PATH | O_CLOEXEC | O_DIRECTORY
        Assert.Equal(CgroupIOException.ENOENT, Assert.Throws<CgroupIOException>(() => fs.OpenDirectory(_root + "/parent/sandbox-2")).Errno);
        Assert.Equal(CgroupIOException.ENOTDIR, Assert.Throws<CgroupIOException>(() => fs.OpenDirectory(_root + "/parent/sandbox-1/cgroup.procs")).Errno);
    }

    [Fact]
    public void Reads_return_files_longer_than_one_buffer_whole()
    {
        string text = string.Concat(Enumerable.Range(0, 3000).Select(i => i + "\n"));
        File.WriteAllText(_root + "/cgroup.procs", text);
        Assert.Equal(text, _fs.ReadText(_root + "/cgroup.procs"));
    }

    [Fact]
    public void The_process_views_come_from_proc()
    {
        Assert.Contains(" - ", _fs.ReadMountInfo(), StringComparison.Ordinal);
        Assert.Contains("::", _fs.ReadProcSelfCgroup() + "::", StringComparison.Ordinal);
        Assert.StartsWith("pid:[", _fs.TryReadLink("/proc/self/ns/pid"), StringComparison.Ordinal);
        Assert.Equal(Environment.ProcessId, HostProcessStamp.ReadCurrent(_fs).Pid);
    }
}
