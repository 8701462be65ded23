namespace Sandbox.Cgroups;

/// <summary>What <see cref="ICgroupDriver.RemoveStaleAsync"/> did.</summary>
/// <param name="Removed">Stale cgroups killed and removed.</param>
/// <param name="Failed">Stale cgroups that could not be removed, with why.</param>
/// <param name="LeftAlone">Sandbox cgroups whose host could not be judged (another pid namespace): not touched.</param>
internal sealed record StaleCgroupSweep(
    IReadOnlyList<string> Removed,
    IReadOnlyList<(string Name, string Error)> Failed,
    IReadOnlyList<string> LeftAlone);
