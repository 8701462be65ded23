namespace Sandbox.Cgroups.V1;

/// <summary>A sandbox cgroup's directory in one v1 hierarchy.</summary>
/// <param name="Controllers">The controllers of the hierarchy (e.g. [cpu] or [cpu, cpuacct] when mounted together).</param>
/// <param name="Directory">The sandbox cgroup's directory in it.</param>
internal sealed record CgroupV1Placement(IReadOnlyList<string> Controllers, string Directory);
