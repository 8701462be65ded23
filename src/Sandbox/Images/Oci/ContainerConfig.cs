using System.Collections.Immutable;

namespace Sandbox.Images.Oci;

/// <summary>
/// The execution parameters an image asks for (the config's <c>config</c> object): what a run applies unless
/// the spec says otherwise.
/// </summary>
public sealed record ContainerConfig
{
    /// <summary>An image that asks for nothing.</summary>
    public static ContainerConfig Empty { get; } = new();

    /// <summary><c>User</c>: "uid", "uid:gid", "name" or "name:group", or null.</summary>
    public string? User { get; init; }

    /// <summary><c>Env</c>: "KEY=value" entries, in order.</summary>
    public ImmutableArray<string> Env { get; init; } = [];

    /// <summary><c>Entrypoint</c>, or null if unset (empty and unset differ: an empty one clears the default).</summary>
    public ImmutableArray<string>? Entrypoint { get; init; }

    /// <summary><c>Cmd</c>: the default arguments (or command, without an entrypoint), or null.</summary>
    public ImmutableArray<string>? Cmd { get; init; }

    /// <summary><c>WorkingDir</c>, or null.</summary>
    public string? WorkingDir { get; init; }

    /// <summary><c>Labels</c>.</summary>
    public ImmutableDictionary<string, string> Labels { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary><c>StopSignal</c>, e.g. "SIGTERM", or null.</summary>
    public string? StopSignal { get; init; }

    /// <summary><c>ExposedPorts</c> keys, e.g. "80/tcp".</summary>
    public ImmutableArray<string> ExposedPorts { get; init; } = [];

    /// <summary><c>Volumes</c> keys.</summary>
    public ImmutableArray<string> Volumes { get; init; } = [];

    /// <summary>The command a run starts: <see cref="Entrypoint"/> followed by <see cref="Cmd"/> (empty if neither is set).</summary>
    public ImmutableArray<string> Command => [.. Entrypoint ?? [], .. Cmd ?? []];

    /// <summary>The environment as key/value pairs (an entry without '=' is a key with an empty value); a later key wins.</summary>
    public ImmutableDictionary<string, string> Environment
    {
        get
        {
            var builder = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            foreach (var entry in Env)
            {
                int eq = entry.IndexOf('=', StringComparison.Ordinal);
                if (eq == 0) continue;
                if (eq < 0) builder[entry] = "";
                else builder[entry[..eq]] = entry[(eq + 1)..];
            }
            return builder.ToImmutable();
        }
    }

    /// <inheritdoc/>
    public bool Equals(ContainerConfig? other) =>
        other is not null && User == other.User && WorkingDir == other.WorkingDir && StopSignal == other.StopSignal &&
        Env.SequenceEqual(other.Env) && SequenceEqual(Entrypoint, other.Entrypoint) && SequenceEqual(Cmd, other.Cmd) &&
        ExposedPorts.SequenceEqual(other.ExposedPorts) && Volumes.SequenceEqual(other.Volumes) &&
        Labels.Count == other.Labels.Count && Labels.All(l => other.Labels.TryGetValue(l.Key, out var v) && v == l.Value);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(User, WorkingDir, Env.Length, Entrypoint?.Length, Cmd?.Length);

    private static bool SequenceEqual(ImmutableArray<string>? a, ImmutableArray<string>? b) =>
        a is null ? b is null : b is not null && a.Value.SequenceEqual(b.Value);
}
