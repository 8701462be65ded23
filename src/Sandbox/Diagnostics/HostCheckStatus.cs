namespace Sandbox.Diagnostics;

/// <summary>What a host check concluded.</summary>
public enum HostCheckStatus
{
    /// <summary>Present and usable.</summary>
    Ok,

    /// <summary>Absent or unusable; the check's fix says how to get it.</summary>
    Missing,

    /// <summary>Usable with a caveat (an older kernel, a partial delegation, virtualization that is not hardware); see the fix.</summary>
    Warning,

    /// <summary>Could not be determined (a file the check reads is absent or unreadable).</summary>
    Unknown,
}
