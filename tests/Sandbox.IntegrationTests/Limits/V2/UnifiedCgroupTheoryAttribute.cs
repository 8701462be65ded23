using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests.Limits.V2;

/// <summary>A theory that is skipped, saying which kernel feature is missing, where <see cref="UnifiedCgroupProbe"/> finds it missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class UnifiedCgroupTheoryAttribute : TheoryAttribute
{
    public UnifiedCgroupTheoryAttribute(UnifiedCgroupFeature needs = UnifiedCgroupFeature.Hierarchy) =>
        Skip = UnifiedCgroupHost.Missing(needs);
}
