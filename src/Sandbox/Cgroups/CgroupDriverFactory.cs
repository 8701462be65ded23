using Sandbox.Cgroups.V1;
using Sandbox.Cgroups.V2;

namespace Sandbox.Cgroups;

/// <summary>Picks the driver for a detected layout: v2 for Unified, v1 for Legacy and Hybrid.</summary>
internal static class CgroupDriverFactory
{
    /// <summary>
    /// The driver for <paramref name="layout"/>; <see cref="SandboxUnsupportedException"/> listing every blocking
    /// problem (and its fix) if sandbox cgroups cannot work there.
    /// </summary>
    public static ICgroupDriver Create(
        CgroupLayout layout, ICgroupFileSystem fileSystem, CgroupOptions? options = null,
        IProcessKiller? killer = null, TimeProvider? time = null)
    {
        options ??= CgroupOptions.Default;
        if (!layout.IsUsable)
        {
            CgroupProblem[] blocking = [.. layout.Problems.Where(p => p.Severity == CgroupProblemSeverity.Blocking)];
            throw new SandboxUnsupportedException(
                "cgroups for sandbox limits and accounting",
                string.Join(" ", blocking.Select(p => p.What + (p.Fix is null ? "" : " " + p.Fix))));
        }
        HostProcessStamp host = HostProcessStamp.ReadCurrent(fileSystem);
        return layout.DriverVersion == 2
            ? new CgroupV2Driver(fileSystem, layout.Unified!, host, killer, options, time)
            : new CgroupV1Driver(fileSystem, layout.V1Hierarchies, host, killer, options, time);
    }
}
