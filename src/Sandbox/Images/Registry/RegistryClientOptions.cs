using System.Collections.Immutable;

namespace Sandbox.Images.Registry;

/// <summary>How a <see cref="RegistryClient"/> talks to registries: credentials, which hosts may use plain HTTP, retries.</summary>
public sealed record RegistryClientOptions
{
    /// <summary>Credentials per registry host (as in the reference: <c>ghcr.io</c>, <c>127.0.0.1:5000</c>). Registries not listed are used anonymously.</summary>
    public ImmutableDictionary<string, RegistryCredentials> Credentials { get; init; } =
        ImmutableDictionary<string, RegistryCredentials>.Empty.WithComparers(StringComparer.OrdinalIgnoreCase);

    /// <summary>Registry hosts reached over plain HTTP. Loopback registries (localhost, 127.0.0.0/8, ::1) always are.</summary>
    public ImmutableHashSet<string> InsecureRegistries { get; init; } = ImmutableHashSet<string>.Empty.WithComparer(StringComparer.OrdinalIgnoreCase);

    /// <summary>How many times a request is tried when the registry answers 5xx/429 or the connection fails. Default 4.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>The wait before the first retry; it doubles with each further one. Default 250 ms.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How many redirects one request follows. Default 5.</summary>
    public int MaxRedirects { get; init; } = 5;

    /// <summary>
    /// Blobs up to this size are pushed in one PUT; bigger ones in PATCH requests of <see cref="UploadChunkBytes"/>
    /// each (for registries or proxies that cap a request's body). Default 256 MiB.
    /// </summary>
    public long MonolithicUploadLimit { get; init; } = 256L << 20;

    /// <summary>The size of each PATCH of a chunked upload (raised to the registry's OCI-Chunk-Min-Length if it asks for more). Default 64 MiB.</summary>
    public long UploadChunkBytes { get; init; } = 64L << 20;

    /// <summary>A copy with credentials for <paramref name="registry"/>.</summary>
    public RegistryClientOptions WithCredentials(string registry, RegistryCredentials credentials) =>
        this with { Credentials = Credentials.SetItem(registry, credentials) };

    /// <summary>A copy that reaches <paramref name="registry"/> over plain HTTP.</summary>
    public RegistryClientOptions WithInsecureRegistry(string registry) =>
        this with { InsecureRegistries = InsecureRegistries.Add(registry) };

    /// <summary>A copy that pushes blobs bigger than <paramref name="monolithicLimit"/> in PATCH chunks of <paramref name="chunkBytes"/>.</summary>
    public RegistryClientOptions WithUploadChunking(long monolithicLimit, long chunkBytes) =>
        this with { MonolithicUploadLimit = monolithicLimit, UploadChunkBytes = chunkBytes };

    /// <summary>A copy with another retry policy.</summary>
    public RegistryClientOptions WithRetries(int maxAttempts, TimeSpan retryDelay) =>
        this with { MaxAttempts = maxAttempts, RetryDelay = retryDelay };
}
