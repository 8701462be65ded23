using System.Collections.Immutable;
using Sandbox.Cgroups;

namespace Sandbox.Diagnostics;

/// <summary>
/// The host's cgroup files as <see cref="CgroupLayoutDetector"/> reads them, through the probe's read-only
/// <see cref="IHostFiles"/>: so <c>sandbox doctor</c> judges with the very detection the cgroup drivers use. Writing is
/// refused (detection never writes). Whether a cgroup is writable is judged as the driver's own file system does, without
/// writing: its cgroup.procs must open for writing, and the directory must let this process create entries (its owner
/// and mode against these credentials). Every such judgement is kept in <see cref="Evidence"/>.
/// </summary>
internal sealed class HostCgroupView(IHostFiles files, ProcessCredentials? credentials) : ICgroupFileSystem
{
    private const string MountInfoPath = "/proc/self/mountinfo";
    private const string ProcSelfCgroupPath = "/proc/self/cgroup";

    private readonly ImmutableArray<HostEvidence>.Builder _evidence = ImmutableArray.CreateBuilder<HostEvidence>();

    /// <summary>What the writability checks found, in order.</summary>
    public ImmutableArray<HostEvidence> Evidence => _evidence.ToImmutable();

    public string ReadText(string path) =>
        files.TryReadText(path) ?? throw new CgroupIOException("read", path, CgroupIOException.ENOENT);

    public string? TryReadText(string path) => files.TryReadText(path);

    public void WriteText(string path, string text) => throw ReadOnly("write", path);

    public void CreateDirectory(string path) => throw ReadOnly("create", path);

    public void RemoveDirectory(string path) => throw ReadOnly("remove", path);

    public bool Exists(string path) => files.Exists(path);

    public Microsoft.Win32.SafeHandles.SafeFileHandle OpenDirectory(string path) => throw ReadOnly("open for clone3", path);

    public Microsoft.Win32.SafeHandles.SafeFileHandle OpenForWriting(string path) => throw ReadOnly("open for writing", path);

    public void KeepOpen(IReadOnlyList<string> files)
    {
        // A read-only view for the doctor: nothing is read often enough to keep open.
    }

    /// <summary>Nothing to keep open: detection reads a few files once.</summary>
    public void AnchorDirectory(string directory)
    {
    }

    public IReadOnlyList<string> ListDirectories(string path) => files.ListDirectories(path);

    public bool CanWrite(string path)
    {
        if (files.TryGetStatus(path) is not { Kind: Interop.HostFileKind.Directory } directory)
            return Opens(path);
        bool procs = Opens(path + "/cgroup.procs");
        bool mayCreate = credentials?.MayCreateIn(directory) ?? false;
        _evidence.Add(new HostEvidence(path, $"{directory}; {(mayCreate ? "entries may be created" : $"no entries may be created by {credentials?.ToString() ?? "this user"}")}"));
        return procs && mayCreate;
    }

    public string? TryReadLink(string path) => null;

    public string ReadMountInfo() => files.TryReadText(MountInfoPath) ?? "";

    public string ReadProcSelfCgroup() => files.TryReadText(ProcSelfCgroupPath) ?? "";

    private bool Opens(string path)
    {
        string? error = files.TryOpen(path, FileAccess.Write);
        _evidence.Add(new HostEvidence($"open({path}, O_WRONLY)", error ?? "allowed (closed unwritten)"));
        return error is null;
    }

    private static InvalidOperationException ReadOnly(string operation, string path) =>
        new($"The host probe does not {operation} anything ({path}): cgroup detection only reads.");
}
