using System.Diagnostics.Contracts;
using Sandbox.Images.Oci;

namespace Sandbox.Images.Store;

/// <summary>How <see cref="ImageStore.PullAsync(Registry.RegistryClient, ImageReference, ImagePullOptions, IProgress{Registry.BlobProgress}?, CancellationToken)"/> pulls.</summary>
public sealed record ImagePullOptions
{
    /// <summary>The platform to pick when the reference names an index. Default: null, this host's.</summary>
    public Platform? Platform { get; init; }

    /// <summary>When the layers are unpacked. Default: <see cref="LayerUnpacking.Eager"/>, during the pull.</summary>
    public LayerUnpacking Unpacking { get; init; } = LayerUnpacking.Eager;

    /// <summary>A copy picking <paramref name="platform"/> (null: this host's).</summary>
    [Pure]
    public ImagePullOptions WithPlatform(Platform? platform) => this with { Platform = platform };

    /// <summary>A copy that unpacks layers as <paramref name="unpacking"/> says.</summary>
    [Pure]
    public ImagePullOptions WithUnpacking(LayerUnpacking unpacking) => this with { Unpacking = unpacking };
}
