namespace Sandbox.IntegrationTests.Limits.V2;

/// <summary>What a test of the v2 driver needs beyond a cgroup2 hierarchy.</summary>
public enum UnifiedCgroupFeature
{
    /// <summary>A cgroup2 hierarchy only.</summary>
    Hierarchy,

    /// <summary>clone3's CLONE_INTO_CGROUP (Linux 5.7).</summary>
    CloneIntoCgroup,

    /// <summary>cgroup.kill (Linux 5.14).</summary>
    Kill,
}
