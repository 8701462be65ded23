using System.Collections.Immutable;
using System.Globalization;

namespace Sandbox.Diagnostics;

/// <summary>One line of /proc/self/cgroup: <c>HIERARCHY-ID:CONTROLLERS:PATH</c> (the v2 line is <c>0::PATH</c>).</summary>
internal sealed record CgroupMembership(int HierarchyId, string Controllers, string Path)
{
    public const string ProcSelfCgroup = "/proc/self/cgroup";

    /// <summary>Whether this is the cgroup v2 line.</summary>
    public bool IsUnified => HierarchyId == 0 && Controllers.Length == 0;

    /// <summary>Every well-formed line of <paramref name="procSelfCgroup"/>.</summary>
    public static ImmutableArray<CgroupMembership> Parse(string? procSelfCgroup)
    {
        var lines = ImmutableArray.CreateBuilder<CgroupMembership>();
        foreach (var line in (procSelfCgroup ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // The path may itself hold colons: split on the first two only.
            var parts = line.Split(':', 3);
            if (parts.Length == 3 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int id))
                lines.Add(new CgroupMembership(id, parts[1], parts[2]));
        }
        return lines.ToImmutable();
    }
}
