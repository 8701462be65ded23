namespace Sandbox.Cgroups.V1;

/// <summary>v1 freezer.state.</summary>
internal enum FreezerState
{
    /// <summary>THAWED: tasks run.</summary>
    Thawed,

    /// <summary>FREEZING: on the way to frozen (some task has not stopped yet).</summary>
    Freezing,

    /// <summary>FROZEN: every task is stopped.</summary>
    Frozen,
}
