namespace Sandbox.IntegrationTests.Support;

/// <summary>A fresh directory under the system's temporary directory, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    /// <summary>rwxr-xr-x: the sandbox user (host nobody) can read it but not write to it.</summary>
    public const UnixFileMode ReadableByAll =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>rwxrwxrwx: the sandbox user (host nobody) can write to it.</summary>
    public const UnixFileMode WritableByAll = ReadableByAll | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    private TempDirectory(string path) => Path = path;

    /// <summary>The directory's absolute path.</summary>
    public string Path { get; }

    /// <summary>Creates the directory with <paramref name="mode"/> (not subject to the umask).</summary>
    public static TempDirectory Create(UnixFileMode mode = ReadableByAll)
    {
        var info = Directory.CreateTempSubdirectory("sandbox-it-");
        info.UnixFileMode = mode;
        return new TempDirectory(info.FullName);
    }

    /// <summary>A path inside the directory.</summary>
    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
