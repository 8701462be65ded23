namespace Sandbox.IntegrationTests.Support;

/// <summary>
/// A world-readable copy of this test run's build output (Sandbox, the CLI, sandbox-init, sandbox-probe).
/// </summary>
/// <remarks>
/// The sandbox user maps to an unprivileged host user (nobody, as root; the caller's own uid, rootless),
/// which must be able to reach every bind source; and the rootless tests run the CLI as nobody. A checkout
/// under a directory nobody cannot read (/root/...) would make both fail, so everything runs from a copy
/// in a fresh temporary directory, made once per test run and deleted when the test host exits.
/// </remarks>
internal static class TestBinaries
{
    private const UnixFileMode Mode0755 =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private static readonly Lazy<string> LazyDirectory = new(CopyBuildOutput, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The directory holding the copy.</summary>
    public static string Directory => LazyDirectory.Value;

    /// <summary>The probe program (tests/probe), on the host.</summary>
    public static string ProbePath => Path.Combine(Directory, "sandbox-probe");

    /// <summary>The image importer (tests/Sandbox.ImageImporter), to run with <c>dotnet</c>.</summary>
    public static string ImageImporterAssemblyPath => Path.Combine(Directory, "Sandbox.ImageImporter.dll");

    /// <summary>The CLI's assembly, to run with <c>dotnet</c>.</summary>
    public static string CliAssemblyPath => Path.Combine(Directory, "Sandbox.Cli.dll");

    private static string CopyBuildOutput()
    {
        var copy = System.IO.Directory.CreateTempSubdirectory("sandbox-tests-");
        copy.UnixFileMode = Mode0755;
        CopyTree(new DirectoryInfo(AppContext.BaseDirectory), copy);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(copy.FullName);
        return copy.FullName;
    }

    private static void CopyTree(DirectoryInfo source, DirectoryInfo target)
    {
        foreach (var file in source.EnumerateFiles())
        {
            var copied = file.CopyTo(Path.Combine(target.FullName, file.Name));
            copied.UnixFileMode = Mode0755;
        }
        foreach (var directory in source.EnumerateDirectories())
        {
            var created = target.CreateSubdirectory(directory.Name);
            created.UnixFileMode = Mode0755;
            CopyTree(directory, created);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            System.IO.Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
