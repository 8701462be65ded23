namespace Sandbox.Images.Layers;

/// <summary>What to do with character and block devices in a layer (FIFOs are always created).</summary>
public enum DeviceNodePolicy
{
    /// <summary>Create them (needs CAP_MKNOD: root).</summary>
    Create,
    /// <summary>Leave them out and say so in the result's notes (rootless).</summary>
    Skip,
    /// <summary>Reject the layer.</summary>
    Reject,
}
