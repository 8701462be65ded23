using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Sandbox.Diagnostics;

/// <summary>What <see cref="HostProbe"/> found: every check, in a fixed order, and whether sandboxes can run here.</summary>
/// <param name="Checks">The checks, in the order of <see cref="HostCheckNames"/>.</param>
public sealed record HostReport(ImmutableArray<HostCheck> Checks)
{
    /// <summary>
    /// True when everything the default sandbox needs works: every <see cref="HostCheck.Required"/> check (kernel,
    /// user namespaces, pidfd, the trial sandbox) is <see cref="HostCheckStatus.Ok"/> or <see cref="HostCheckStatus.Warning"/>.
    /// </summary>
    [JsonPropertyOrder(-1)]
    public bool CanRunSandboxes => Checks.Where(c => c.Required).All(c => c.Status is HostCheckStatus.Ok or HostCheckStatus.Warning);

    /// <summary>The required checks that fail (<see cref="HostCheckStatus.Missing"/> or <see cref="HostCheckStatus.Unknown"/>).</summary>
    [JsonIgnore]
    public IEnumerable<HostCheck> Blocking => Checks.Where(c => c.Required && c.Status is HostCheckStatus.Missing or HostCheckStatus.Unknown);

    /// <summary>The check named <paramref name="name"/> (see <see cref="HostCheckNames"/>).</summary>
    /// <exception cref="KeyNotFoundException">No check has that name.</exception>
    public HostCheck this[string name] =>
        Checks.FirstOrDefault(c => c.Name == name) ?? throw new KeyNotFoundException($"No host check is named '{name}'; see HostCheckNames.");
}
