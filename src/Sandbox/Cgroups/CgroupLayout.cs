using System.Text;

namespace Sandbox.Cgroups;

/// <summary>What <see cref="CgroupLayoutDetector"/> found: the layout, the hierarchies, access and every problem.</summary>
/// <param name="Kind">Unified, Legacy, Hybrid or None.</param>
/// <param name="Unified">The cgroup2 hierarchy (also present, usually without controllers, in a hybrid layout).</param>
/// <param name="V1Hierarchies">The v1 hierarchies that carry controllers, by mount.</param>
/// <param name="EffectiveUserId">The user detection checked access for.</param>
/// <param name="Problems">What is missing or odd, each with its fix; empty when all is well.</param>
internal sealed record CgroupLayout(
    CgroupLayoutKind Kind,
    CgroupV2Hierarchy? Unified,
    IReadOnlyList<CgroupV1Hierarchy> V1Hierarchies,
    uint EffectiveUserId,
    IReadOnlyList<CgroupProblem> Problems)
{
    /// <summary>The cgroup version sandboxes use: 2 for Unified, 1 for Legacy and Hybrid (2 if so chosen), null for None.</summary>
    public int? DriverVersion => Kind switch
    {
        CgroupLayoutKind.Unified => 2,
        CgroupLayoutKind.Hybrid when UnifiedOnHybrid => 2,
        CgroupLayoutKind.Legacy or CgroupLayoutKind.Hybrid => 1,
        _ => null,
    };

    /// <summary>Whether a hybrid layout's cgroup2 hierarchy was chosen for sandboxes (<see cref="CgroupOptions.UnifiedOnHybrid"/>).</summary>
    public bool UnifiedOnHybrid { get; init; }

    /// <summary>Whether sandbox cgroups can be created with the configured controllers (no blocking problem).</summary>
    public bool IsUsable => DriverVersion is not null && !Problems.Any(p => p.Severity == CgroupProblemSeverity.Blocking);

    /// <summary>Whether sandbox cgroups can use <paramref name="controller"/> (v2: the parent may enable it; v1: its hierarchy is mounted with the parent inside).</summary>
    public bool Offers(string controller) => DriverVersion switch
    {
        2 => Unified is { } unified && (unified.AvailableControllers.Contains(controller) || unified.EnabledControllers.Contains(controller)),
        1 => FindV1(controller) is { ParentDirectory: not null },
        _ => false,
    };

    /// <summary>The v1 hierarchy that holds <paramref name="controller"/>, if mounted.</summary>
    public CgroupV1Hierarchy? FindV1(string controller) =>
        V1Hierarchies.FirstOrDefault(h => h.Controllers.Contains(controller, StringComparer.Ordinal));

    /// <summary>A multi-line report for humans (and <c>sandbox doctor</c>).</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append("cgroups: ").Append(Kind switch
        {
            CgroupLayoutKind.Unified => "cgroup v2 (unified)",
            CgroupLayoutKind.Legacy => "cgroup v1 (legacy)",
            CgroupLayoutKind.Hybrid => "hybrid (cgroup v1 controllers, plus a cgroup2 mount)",
            _ => "none usable",
        });
        text.Append(IsUsable ? ", usable" : ", NOT usable").Append(" for uid ").Append(EffectiveUserId).Append('\n');
        if (Unified is { } v2)
        {
            text.Append("  v2 at ").Append(v2.MountPoint)
                .Append(": parent ").Append(v2.ParentDirectory ?? $"{v2.ParentCgroup} (outside the mount)")
                .Append(v2.ParentExists ? "" : " (to be created)")
                .Append(", controllers available [").AppendJoin(' ', v2.AvailableControllers.Order(StringComparer.Ordinal))
                .Append("], enabled [").AppendJoin(' ', v2.EnabledControllers.Order(StringComparer.Ordinal))
                .Append("], ").Append(v2.Writable ? "writable" : "not writable").Append('\n');
        }
        foreach (CgroupV1Hierarchy v1 in V1Hierarchies)
        {
            text.Append("  v1 ").AppendJoin(',', v1.Controllers).Append(" at ").Append(v1.MountPoint)
                .Append(": parent ").Append(v1.ParentDirectory ?? $"{v1.ParentCgroup} (outside the mount)")
                .Append(v1.ParentExists ? "" : " (to be created)")
                .Append(", ").Append(v1.Writable ? "writable" : "not writable").Append('\n');
        }
        foreach (CgroupProblem problem in Problems)
        {
            text.Append("  ").Append(problem).Append('\n');
        }
        return text.ToString();
    }
}
