namespace Sandbox.Cgroups;

/// <summary>A limit a driver put in place, and how, for the result's "enforced" list.</summary>
/// <param name="Limit">What is limited: "memory", "swap", "pids", "cpu quota", "cpu weight", "cpus", "mems", "io 8:0".</param>
/// <param name="Mechanism">The file and value that enforce it, e.g. "cgroup v2 memory.max=67108864".</param>
internal sealed record CgroupEnforcedLimit(string Limit, string Mechanism)
{
    /// <inheritdoc />
    public override string ToString() => $"{Limit}: {Mechanism}";
}
