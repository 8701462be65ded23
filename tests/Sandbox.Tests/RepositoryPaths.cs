namespace Sandbox.Tests;

/// <summary>Where the repository's own files are, found from the test's output directory.</summary>
internal static class RepositoryPaths
{
    /// <summary>The folder holding Sandbox.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>src/native/launcher.</summary>
    public static string LauncherSources => Path.Combine(Root, "src", "native", "launcher");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sandbox.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"No Sandbox.sln above {AppContext.BaseDirectory}: run the tests from the repository.");
    }
}
