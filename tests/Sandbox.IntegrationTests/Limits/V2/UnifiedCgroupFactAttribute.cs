using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests.Limits.V2;

/// <summary>A fact that is skipped, saying which kernel feature is missing, where <see cref="UnifiedCgroupProbe"/> finds it missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class UnifiedCgroupFactAttribute : FactAttribute
{
    public UnifiedCgroupFactAttribute(UnifiedCgroupFeature needs = UnifiedCgroupFeature.Hierarchy) =>
        Skip = UnifiedCgroupHost.Missing(needs);
}
