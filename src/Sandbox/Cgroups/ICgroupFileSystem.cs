using Microsoft.Win32.SafeHandles;

namespace Sandbox.Cgroups;

/// <summary>
/// Everything the cgroup code asks of the file system: /sys/fs/cgroup, /proc/self/mountinfo, /proc/self/cgroup and
/// /proc/PID/stat. The one seam between the cgroup logic and the kernel, so plans and drivers can be tested without
/// root: <see cref="CgroupFileSystem"/> is the real thing, tests substitute a fake cgroupfs.
/// </summary>
/// <remarks>
/// Paths are absolute. Failures are reported as <see cref="CgroupIOException"/> carrying the errno the kernel returned
/// (EBUSY from rmdir of a populated cgroup, EINVAL from a malformed value, ESRCH from a pid that is gone, ...).
/// </remarks>
internal interface ICgroupFileSystem
{
    /// <summary>The whole text of a file; throws <see cref="CgroupIOException"/> (ENOENT if missing).</summary>
    string ReadText(string path);

    /// <summary>The whole text of a file, or null if it does not exist.</summary>
    string? TryReadText(string path);

    /// <summary>
    /// Writes <paramref name="text"/> with one write(2) to an existing file, without creating or truncating it
    /// (a cgroup control file acts on each write: one value per call).
    /// </summary>
    void WriteText(string path, string text);

    /// <summary>mkdir(2): the parent must exist; EEXIST if the directory already exists.</summary>
    void CreateDirectory(string path);

    /// <summary>rmdir(2): EBUSY while a cgroup still has processes or children.</summary>
    void RemoveDirectory(string path);

    /// <summary>Whether a file or directory exists at <paramref name="path"/>.</summary>
    bool Exists(string path);

    /// <summary>The names (not paths) of the subdirectories of <paramref name="path"/>; empty if it does not exist.</summary>
    IReadOnlyList<string> ListDirectories(string path);

    /// <summary>
    /// Whether the current user may write <paramref name="path"/>, without writing or creating anything: for a file,
    /// the kernel's own check (open for writing, then close); for a directory, whether entries may be created in it.
    /// </summary>
    bool CanWrite(string path);

    /// <summary>The target of a symbolic link (e.g. /proc/self/ns/pid → <c>pid:[4026531836]</c>), or null.</summary>
    string? TryReadLink(string path);

    /// <summary>
    /// Says that many later calls name paths beneath <paramref name="directory"/> (a parent of sandbox cgroups): the real
    /// file system keeps it open and resolves those paths relative to it (openat, mkdirat, unlinkat) instead of walking
    /// them from /. Paths stay absolute for callers, and what a call does is the same either way (a fake may just record
    /// it). Throws <see cref="CgroupIOException"/> if the directory cannot be opened.
    /// </summary>
    void AnchorDirectory(string directory);

    /// <summary>
    /// open(O_PATH | O_DIRECTORY | O_CLOEXEC) of a cgroup directory, resolved like every other path (beneath an anchor):
    /// the fd clone3 takes to start a process in that cgroup (CLONE_INTO_CGROUP). The caller closes it. Throws
    /// <see cref="CgroupIOException"/> (ENOENT if the directory is gone).
    /// </summary>
    SafeFileHandle OpenDirectory(string path);

    /// <summary>
    /// Opens <paramref name="files"/> for reading now, ahead of their reads: later reads of them (<see cref="TryReadText"/>)
    /// are then one pread(2) each instead of an open, reads and a close. They stay open until their directory is removed
    /// (<see cref="RemoveDirectory"/>). Missing files are skipped; a fake may just record the call.
    /// </summary>
    void KeepOpen(IReadOnlyList<string> files);

    /// <summary>
    /// Opens an existing file for writing (O_WRONLY | O_CLOEXEC), resolved like every other path: a cgroup.procs the
    /// launcher's child writes itself into through this fd instead of opening the path. The caller closes it. Throws
    /// <see cref="CgroupIOException"/>.
    /// </summary>
    SafeFileHandle OpenForWriting(string path);

    /// <summary>The text of /proc/self/mountinfo.</summary>
    string ReadMountInfo();

    /// <summary>The text of /proc/self/cgroup.</summary>
    string ReadProcSelfCgroup();
}
