namespace Sandbox.Tests.Seccomp;

/// <summary>Test data that lives outside the repository: shared/fixtures/seccomp beside it.</summary>
internal static class SeccompFixtures
{
    /// <summary>The Moby project's default seccomp profile (moby-default.json), found by walking up from the repository root.</summary>
    public static string MobyDefaultProfile { get; } = Find(Path.Combine("shared", "fixtures", "seccomp", "moby-default.json"));

    private static string Find(string relative)
    {
        var searched = new List<string>();
        for (var dir = new DirectoryInfo(RepositoryPaths.Root).Parent; dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
                return candidate;
            searched.Add(candidate);
        }
        throw new FileNotFoundException(
            $"The fixture {relative} was not found beside the repository ({RepositoryPaths.Root}); looked at:\n  " + string.Join("\n  ", searched) +
            "\nIt is test data kept outside the repository, in <parent>/shared/fixtures/seccomp/: check out shared/ next to the repository.");
    }
}
