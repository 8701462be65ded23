using Sandbox.Interop;

namespace Sandbox.Diagnostics;

/// <summary>The real <see cref="IHostFiles"/>: System.IO, plus the Interop layer's lstat for a file's type and owner.</summary>
internal sealed class HostFiles : IHostFiles
{
    public static readonly HostFiles Instance = new(LinuxSyscalls.Instance);

    private readonly IHostFileSystem _fileSystem;

    public HostFiles(IHostFileSystem fileSystem) => _fileSystem = fileSystem;

    public string? TryReadText(string path) => _fileSystem.TryReadText(path);

    public bool Exists(string path) => _fileSystem.GetKind(path) != HostFileKind.Missing;

    public HostFileStatus? TryGetStatus(string path)
    {
        var kind = _fileSystem.GetKind(path);
        if (kind is not (HostFileKind.Directory or HostFileKind.CharacterDevice))
            return null;
        return LinuxSyscalls.Instance.TryGetOwnership(path, out uint uid, out uint gid, out var mode)
            ? new HostFileStatus(kind, uid, gid, mode)
            : null;
    }

    public IReadOnlyList<string> ListDirectories(string path)
    {
        try
        {
            return Directory.Exists(path) ? [.. Directory.EnumerateDirectories(path).Select(d => Path.GetFileName(d))] : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    public string? TryOpen(string path, FileAccess access)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, access, FileShare.ReadWrite);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return "EACCES (permission denied)";
        }
        catch (FileNotFoundException)
        {
            return "ENOENT (no such file)";
        }
        catch (DirectoryNotFoundException)
        {
            return "ENOENT (no such directory)";
        }
        catch (IOException e)
        {
            // On Linux, an IOException the runtime does not map to a type carries the raw errno in HResult.
            return e.HResult is > 0 and < 4096 ? $"{ErrnoNames.Of(e.HResult)} ({e.Message})" : e.Message;
        }
    }
}
