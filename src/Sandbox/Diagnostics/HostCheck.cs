using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Sandbox.Diagnostics;

/// <summary>One finding of <see cref="HostProbe"/>: what was checked, what was found and, unless it is fine, the fix.</summary>
/// <param name="Name">The check's name, one of <see cref="HostCheckNames"/>.</param>
/// <param name="Status">The conclusion.</param>
/// <param name="Required">Whether the default sandbox needs it (<see cref="HostReport.CanRunSandboxes"/> depends on these).</param>
/// <param name="Finding">What was found, in a sentence that names the files and values it rests on.</param>
/// <param name="Evidence">Every file read and action taken, with the value found.</param>
/// <param name="Fix">How to get what is missing; null when <see cref="Status"/> is <see cref="HostCheckStatus.Ok"/>.</param>
public sealed record HostCheck(
    string Name,
    HostCheckStatus Status,
    bool Required,
    string Finding,
    ImmutableArray<HostEvidence> Evidence,
    string? Fix)
{
    /// <summary>True when <see cref="Status"/> is <see cref="HostCheckStatus.Ok"/>.</summary>
    [JsonIgnore]
    public bool IsOk => Status == HostCheckStatus.Ok;
}
