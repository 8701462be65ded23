using System.Collections.Frozen;
using System.Collections.Immutable;

namespace Sandbox.Diagnostics;

/// <summary>A mounted cgroup v1 hierarchy: its controllers (none for a named one such as <c>name=systemd</c>).</summary>
internal sealed record CgroupV1Hierarchy(HostMount Mount, ImmutableArray<string> Controllers, string? Name)
{
    // Options of a cgroup v1 mount that are not controllers; so are all KEY=VALUE options (name=, release_agent=).
    private static readonly FrozenSet<string> NotControllers = FrozenSet.Create(StringComparer.Ordinal,
        ["rw", "ro", "none", "all", "noprefix", "clone_children", "xattr", "cpuset_v2_mode", "favordynmods"]);

    /// <summary>How /proc/self/cgroup names it: <c>cpu,cpuacct</c>, or <c>name=systemd</c>.</summary>
    public string Label => Controllers.Length > 0 ? string.Join(',', Controllers) : $"name={Name}";

    /// <summary>The hierarchy a v1 mount holds, from its super options (<c>rw,cpu,cpuacct</c> or <c>rw,name=systemd</c>).</summary>
    public static CgroupV1Hierarchy FromMount(HostMount mount)
    {
        var options = mount.SuperOptionList;
        string? name = options.FirstOrDefault(o => o.StartsWith("name=", StringComparison.Ordinal))?["name=".Length..];
        return new CgroupV1Hierarchy(mount, [.. options.Where(o => !o.Contains('=', StringComparison.Ordinal) && !NotControllers.Contains(o))], name);
    }

    /// <summary>Whether a /proc/self/cgroup line's controller list (<c>cpu,cpuacct</c>, <c>name=systemd</c>) names this hierarchy.</summary>
    public bool IsNamedBy(string controllerList)
    {
        var listed = controllerList.Split(',', StringSplitOptions.RemoveEmptyEntries);
        return Controllers.Length > 0
            ? listed.Order(StringComparer.Ordinal).SequenceEqual(Controllers.Order(StringComparer.Ordinal))
            : Name is not null && listed.Contains($"name={Name}", StringComparer.Ordinal);
    }
}
