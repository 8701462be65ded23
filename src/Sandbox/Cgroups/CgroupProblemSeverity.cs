namespace Sandbox.Cgroups;

/// <summary>How much a <see cref="CgroupProblem"/> matters.</summary>
internal enum CgroupProblemSeverity
{
    /// <summary>Worth knowing; nothing is lost.</summary>
    Info,

    /// <summary>Works, but not as well as it could, or only because the driver will change something.</summary>
    Warning,

    /// <summary>Sandbox cgroups cannot be created or limited on this host as configured.</summary>
    Blocking,
}
