using System.Collections.Immutable;

namespace Sandbox.Images.Oci;

/// <summary>An image config: the platform, what to run, and the diff ids of the layers (the uncompressed tars' digests).</summary>
/// <param name="Platform">Architecture, OS and variant.</param>
/// <param name="Config">Entrypoint, Cmd, Env, WorkingDir, User, ...</param>
/// <param name="DiffIds">rootfs.diff_ids: one per layer, base first.</param>
public sealed record ImageConfig(Platform Platform, ContainerConfig Config, ImmutableArray<Digest> DiffIds)
{
    /// <summary>When the image was created, if it says.</summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>Parses config JSON; <see cref="FormatException"/> names what is wrong.</summary>
    public static ImageConfig Parse(ReadOnlySpan<byte> json) => OciJson.ParseConfig(json);
}
