namespace Sandbox.Images.Layers;

/// <summary>How a layer is unpacked: whiteout format, xattr namespace, owners, device nodes, limits.</summary>
public sealed record LayerApplyOptions
{
    /// <summary>For this process: as root, trusted and user xattrs, owners kept, devices created; otherwise user xattrs, no chown, devices skipped.</summary>
    public static LayerApplyOptions ForCurrentUser() => Interop.FileSystemCalls.Geteuid() == 0 ? Root : Rootless;

    /// <summary>
    /// Root: overlay format, trusted.overlay.* and user.overlay.* (a root overlay and one in a user namespace both read
    /// the layers), owners as recorded, devices created.
    /// </summary>
    public static LayerApplyOptions Root { get; } = new() { XattrNamespace = OverlayXattrNamespace.TrustedAndUser };

    /// <summary>Rootless: overlay format, user.overlay.*, no chown, devices skipped with a note.</summary>
    public static LayerApplyOptions Rootless { get; } = new()
    {
        XattrNamespace = OverlayXattrNamespace.User,
        Owners = IdMapping.Unpacker,
        DeviceNodes = DeviceNodePolicy.Skip,
    };

    /// <summary>What whiteouts become.</summary>
    public WhiteoutFormat Whiteouts { get; init; } = WhiteoutFormat.Overlay;

    /// <summary>Where overlay xattrs go.</summary>
    public OverlayXattrNamespace XattrNamespace { get; init; } = OverlayXattrNamespace.Trusted;

    /// <summary>How owners map.</summary>
    public IdMapping Owners { get; init; } = IdMapping.Identity;

    /// <summary>What happens to device nodes.</summary>
    public DeviceNodePolicy DeviceNodes { get; init; } = DeviceNodePolicy.Create;

    /// <summary>Limits on entries, sizes and paths.</summary>
    public LayerLimits Limits { get; init; } = LayerLimits.Default;

    /// <summary>The opaque xattr's name in the chosen namespace (with both, the trusted one).</summary>
    public string OpaqueXattr => XattrNamespace == OverlayXattrNamespace.User ? "user.overlay.opaque" : "trusted.overlay.opaque";

    /// <summary>Every name the opaque xattr is written under: one per namespace chosen.</summary>
    public IReadOnlyList<string> OpaqueXattrs => XattrNamespace == OverlayXattrNamespace.TrustedAndUser
        ? ["trusted.overlay.opaque", "user.overlay.opaque"] : [OpaqueXattr];

    /// <summary>A copy with another whiteout format.</summary>
    public LayerApplyOptions WithWhiteouts(WhiteoutFormat format) => this with { Whiteouts = format };

    /// <summary>A copy with another xattr namespace.</summary>
    public LayerApplyOptions WithXattrNamespace(OverlayXattrNamespace ns) => this with { XattrNamespace = ns };

    /// <summary>A copy with another owner mapping.</summary>
    public LayerApplyOptions WithOwners(IdMapping mapping) => this with { Owners = mapping };

    /// <summary>A copy with another device policy.</summary>
    public LayerApplyOptions WithDeviceNodes(DeviceNodePolicy policy) => this with { DeviceNodes = policy };

    /// <summary>A copy with other limits.</summary>
    public LayerApplyOptions WithLimits(LayerLimits limits) => this with { Limits = limits };
}
