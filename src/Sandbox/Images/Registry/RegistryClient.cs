using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Sandbox.Images.Oci;

namespace Sandbox.Images.Registry;

/// <summary>
/// Reads images from a registry through the OCI distribution API: manifests by tag or digest (OCI index and
/// manifest, Docker manifest list and manifest), blobs streamed and verified byte by byte. Handles bearer-token
/// auth (anonymous or with Basic credentials, tokens cached per registry and scope), redirects (dropping the
/// registry's credentials when the host changes), and retries with doubling backoff on 5xx, 429 and transport errors
/// (a blob download that breaks off is resumed from the byte reached). Pushes too (<c>RegistryClient.Push.cs</c>):
/// blob existence checks, uploads (whole or chunked), cross-repository mounts and manifests.
/// HTTPS, except for loopback registries and those marked insecure.
/// </summary>
public sealed partial class RegistryClient : IDisposable
{
    private const long MaxManifestBytes = 8 << 20;

    /// <summary>The manifest media types asked for, most specific first.</summary>
    internal static readonly string[] ManifestMediaTypes = [MediaTypes.OciIndex, MediaTypes.OciManifest, MediaTypes.DockerManifestList, MediaTypes.DockerManifest];

    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _tokenGates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _basicRegistries = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates a client; <paramref name="handler"/> replaces the network (tests), and is disposed with the client.</summary>
    public RegistryClient(RegistryClientOptions? options = null, HttpMessageHandler? handler = null)
    {
        Options = options ?? new RegistryClientOptions();
        if (Options.MaxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(options), Options.MaxAttempts, "MaxAttempts must be at least 1.");
        handler ??= new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // followed here, so credentials are dropped on a host change and the fake handler sees every hop
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        };
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("sandbox", typeof(RegistryClient).Assembly.GetName().Version?.ToString() ?? "0"));
    }

    /// <summary>The options the client was created with.</summary>
    public RegistryClientOptions Options { get; }

    /// <summary>The registry's base URL: <c>docker.io</c> is <c>https://registry-1.docker.io</c>; loopback and insecure registries use http.</summary>
    public Uri BaseUri(string registry)
    {
        string host = registry == ImageReference.DockerHub ? "registry-1.docker.io" : registry;
        bool plain = IsLoopback(registry) || Options.InsecureRegistries.Contains(registry);
        return new Uri($"{(plain ? "http" : "https")}://{host}/");
    }

    /// <summary>True for <c>localhost</c>, 127.0.0.0/8 and ::1, with or without a port.</summary>
    public static bool IsLoopback(string registry)
    {
        string host = registry;
        if (host.StartsWith('['))
            host = host[1..Math.Max(1, host.IndexOf(']'))];
        else if (host.LastIndexOf(':') is var colon and > 0)
            host = host[..colon];
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    /// <summary>
    /// The manifest or index <paramref name="reference"/> names: by its digest if it pins one (checked against the
    /// bytes), else by its tag. The digest of a document fetched by tag is computed from the bytes and checked against
    /// the registry's <c>Docker-Content-Digest</c>.
    /// </summary>
    public Task<RegistryManifest> GetManifestAsync(ImageReference reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return GetManifestAsync(reference, reference.Digest?.ToString() ?? reference.Tag ?? ImageReference.DefaultTag, reference.Digest, cancellationToken);
    }

    /// <summary>The manifest or index with digest <paramref name="digest"/> in <paramref name="reference"/>'s repository.</summary>
    public Task<RegistryManifest> GetManifestAsync(ImageReference reference, Digest digest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return GetManifestAsync(reference, digest.ToString(), digest, cancellationToken);
    }

    private async Task<RegistryManifest> GetManifestAsync(ImageReference reference, string tagOrDigest, Digest? expected, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(reference, "manifests/" + tagOrDigest, string.Join(", ", ManifestMediaTypes), cancellationToken).ConfigureAwait(false);
        var url = response.RequestMessage?.RequestUri;
        if (!response.IsSuccessStatusCode)
            throw Failure(response, reference, expected, response.StatusCode == HttpStatusCode.NotFound
                ? $"the repository '{reference.Repository}' has no manifest '{tagOrDigest}' (or does not exist)."
                : "the manifest could not be read.");
        if (response.Content.Headers.ContentLength is > MaxManifestBytes)
            throw new RegistryException($"the manifest is {response.Content.Headers.ContentLength} bytes, more than the {MaxManifestBytes} allowed.", reference.ToString(), url, response.StatusCode, expected,
                "The registry serves something that is not a manifest: check the reference.");
        byte[] bytes = await ReadLimitedAsync(response, reference, url, cancellationToken).ConfigureAwait(false);
        string algorithm = expected?.Algorithm ?? "sha256";
        using (var hash = (expected ?? Digest.Sha256Of([])).CreateHash())
        {
            hash.AppendData(bytes);
            var actual = Digest.FromHash(algorithm, hash.GetHashAndReset());
            if (expected is { } pinned && actual != pinned)
                throw new RegistryException($"the manifest's bytes have the digest {actual}, not the {pinned} asked for.", reference.ToString(), url, response.StatusCode, pinned,
                    "The registry serves corrupt or tampered content: pull from a registry you trust.");
            if (expected is null && response.Headers.TryGetValues("Docker-Content-Digest", out var values)
                && Digest.TryParse(values.FirstOrDefault(), out var announced, out _) && announced.Algorithm == algorithm && announced != actual)
                throw new RegistryException($"the manifest's bytes have the digest {actual}, but the registry announced {announced}.", reference.ToString(), url, response.StatusCode, announced,
                    "The download was corrupted or tampered with: pull again.");
            string mediaType = MediaTypeOf(response, bytes)
                ?? throw new RegistryException("the document has neither a manifest Content-Type nor a mediaType field.", reference.ToString(), url, response.StatusCode, actual,
                    "The registry serves a kind of manifest this version does not read (e.g. Docker schema 1): push the image again with a current tool.");
            return new RegistryManifest(mediaType, actual, bytes);
        }
    }

    /// <summary>
    /// Opens the blob <paramref name="descriptor"/> of <paramref name="reference"/>'s repository as a stream that verifies
    /// size and digest as it is read (a mismatch is a <see cref="RegistryException"/> at the end).
    /// </summary>
    public async Task<Stream> OpenBlobAsync(ImageReference reference, Descriptor descriptor, IProgress<BlobProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(descriptor);
        var response = await SendAsync(reference, "blobs/" + descriptor.Digest, null, cancellationToken).ConfigureAwait(false);
        try
        {
            if (!response.IsSuccessStatusCode)
                throw Failure(response, reference, descriptor.Digest, response.StatusCode == HttpStatusCode.NotFound
                    ? $"the repository '{reference.Repository}' has no blob {descriptor.Digest}."
                    : "the blob could not be read.");
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new VerifyingBlobStream(response, body, descriptor, reference.ToString(), progress, cancellationToken,
                (offset, ct) => SendAsync(reference, "blobs/" + descriptor.Digest, null, ct, rangeFrom: offset), Options.MaxAttempts - 1);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Sends a GET for <c>/v2/REPOSITORY/PATH</c>, authenticating, following redirects and retrying as the class describes.</summary>
    private Task<HttpResponseMessage> SendAsync(ImageReference reference, string path, string? accept, CancellationToken cancellationToken, long rangeFrom = 0)
    {
        var url = new Uri(BaseUri(reference.Registry), $"v2/{reference.Repository}/{path}");
        return SendWithRetriesAsync(reference, HttpMethod.Get, url, PullScope(reference), current =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, current);
            if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
            if (rangeFrom > 0) request.Headers.Range = new RangeHeaderValue(rangeFrom, null);
            return request;
        }, retryTooManyRequests: true, Options.MaxAttempts, cancellationToken);
    }

    /// <summary>The token scope for reading <paramref name="reference"/>'s repository.</summary>
    private static string PullScope(ImageReference reference) => $"repository:{reference.Repository}:pull";

    /// <summary>
    /// Sends the request <paramref name="createRequest"/> builds for a URL (called again for every hop, auth retry and
    /// attempt, so a body is opened afresh), retrying with doubling backoff on 5xx (and 429 when asked) and transport
    /// errors, up to <paramref name="maxAttempts"/> times; the last answer is returned whatever its status.
    /// </summary>
    private async Task<HttpResponseMessage> SendWithRetriesAsync(ImageReference reference, HttpMethod method, Uri url, string scope, Func<Uri, HttpRequestMessage> createRequest,
        bool retryTooManyRequests, int maxAttempts, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            HttpResponseMessage response;
            try
            {
                response = await SendFollowingRedirectsAsync(reference, url, scope, createRequest, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                if (attempt >= maxAttempts)
                    throw new RegistryException(method, $"no answer after {attempt} attempt(s): {e.Message}", reference.ToString(), url, null, null,
                        $"Check that the registry '{reference.Registry}' is reachable (DNS, proxy, firewall){(url.Scheme == "https" ? "; a registry serving plain HTTP must be marked insecure (--insecure-registry)" : "")}.", e);
                await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }
            int status = (int)response.StatusCode;
            if ((status >= 500 || (retryTooManyRequests && status == 429)) && attempt < maxAttempts)
            {
                response.Dispose();
                await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }
            return response;
        }
    }

    private TimeSpan Backoff(int attempt) => Options.RetryDelay * Math.Pow(2, attempt - 1);

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(ImageReference reference, Uri url, string scope, Func<Uri, HttpRequestMessage> createRequest, CancellationToken cancellationToken)
    {
        string tokenKey = reference.Registry + " " + scope;
        string registryAuthority = BaseUri(reference.Registry).Authority;
        bool authenticated = false;
        var current = url;
        for (int hops = 0; ; )
        {
            using var request = createRequest(current);
            // Credentials go to the registry's own host only: never to a storage host it redirects to.
            bool registryHost = current.Authority.Equals(registryAuthority, StringComparison.OrdinalIgnoreCase);
            string? sentToken = null;
            if (registryHost)
            {
                if (_tokens.TryGetValue(tokenKey, out var token))
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", sentToken = token);
                else if (_basicRegistries.ContainsKey(reference.Registry) && Options.Credentials.TryGetValue(reference.Registry, out var basic))
                    request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic.ToBasicParameter());
            }
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            response.RequestMessage ??= request; // errors name the URL even when a handler leaves it out
            if (response.StatusCode == HttpStatusCode.Unauthorized && registryHost && !authenticated)
            {
                var challenge = response.Headers.WwwAuthenticate.Select(h => AuthenticationChallenge.TryParse(h.ToString(), out var c) ? c : null).OfType<AuthenticationChallenge>().ToList();
                if (challenge.FirstOrDefault(c => c.IsBearer) is { } bearer)
                {
                    response.Dispose();
                    // One fetch per scope at a time: requests sent in parallel (a push's layers) share the token the first one gets.
                    var gate = _tokenGates.GetOrAdd(tokenKey, _ => new SemaphoreSlim(1, 1));
                    await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                    try
                    {
                        if (!_tokens.TryGetValue(tokenKey, out var fresh) || fresh == sentToken)
                            _tokens[tokenKey] = await FetchTokenAsync(reference, bearer, scope, current, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        gate.Release();
                    }
                    authenticated = true;
                    continue;
                }
                if (challenge.Any(c => c.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)) && Options.Credentials.ContainsKey(reference.Registry))
                {
                    response.Dispose();
                    _basicRegistries[reference.Registry] = true;
                    authenticated = true;
                    continue;
                }
                return response;
            }
            if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
            {
                var next = location.IsAbsoluteUri ? location : new Uri(current, location);
                response.Dispose();
                if (++hops > Options.MaxRedirects)
                    throw new RegistryException(request.Method, $"more than {Options.MaxRedirects} redirects.", reference.ToString(), current, null, null, "The registry or a proxy loops: check its configuration.");
                if (current.Scheme == Uri.UriSchemeHttps && next.Scheme != Uri.UriSchemeHttps)
                    throw new RegistryException(request.Method, $"the registry redirects from HTTPS to '{next}'.", reference.ToString(), current, null, null,
                        "Refused: a download that starts over HTTPS stays on HTTPS. Fix the registry's storage redirect.");
                if (next.Scheme != Uri.UriSchemeHttps && next.Scheme != Uri.UriSchemeHttp)
                    throw new RegistryException(request.Method, $"the registry redirects to '{next}', which is not HTTP(S).", reference.ToString(), current, null, null, "Fix the registry's storage redirect.");
                current = next;
                continue;
            }
            return response;
        }
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
        or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    /// <summary>Asks the challenge's realm for a token (with Basic credentials if the client has them for this registry).</summary>
    private async Task<string> FetchTokenAsync(ImageReference reference, AuthenticationChallenge challenge, string scope, Uri challengedUrl, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm) || (realm.Scheme != Uri.UriSchemeHttps && realm.Scheme != Uri.UriSchemeHttp))
            throw new RegistryException($"the registry asks for a bearer token but its realm '{challenge.Realm}' is not an HTTP(S) URL.", reference.ToString(), challengedUrl, HttpStatusCode.Unauthorized, null,
                "Fix the registry's auth configuration (auth: token: realm).");
        if (challengedUrl.Scheme == Uri.UriSchemeHttps && realm.Scheme != Uri.UriSchemeHttps && !IsLoopback(realm.Authority))
            throw new RegistryException($"the registry sends credentials to the plain-HTTP realm '{realm}'.", reference.ToString(), challengedUrl, HttpStatusCode.Unauthorized, null,
                "Refused: configure an HTTPS token realm.");
        var query = new List<string>();
        if (challenge.Service is { } service) query.Add("service=" + Uri.EscapeDataString(service));
        // Every scope asked for (push asks for pull,push on the destination and pull on a mount's source), and any
        // other the registry's challenge names, each as its own scope parameter.
        var scopes = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        foreach (string named in (challenge.Scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            if (!scopes.Any(s => Covers(s, named))) scopes.Add(named);
        foreach (string one in scopes) query.Add("scope=" + Uri.EscapeDataString(one));
        var builder = new UriBuilder(realm) { Query = (realm.Query.Length > 1 ? realm.Query[1..] + "&" : "") + string.Join('&', query) };
        bool withCredentials = Options.Credentials.TryGetValue(reference.Registry, out var credentials);
        for (int attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, builder.Uri);
            if (withCredentials) request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credentials!.ToBasicParameter());
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                if (attempt >= Options.MaxAttempts)
                    throw new RegistryException($"the token endpoint did not answer: {e.Message}", reference.ToString(), builder.Uri, null, null, "Check that the registry's token service is reachable.", e);
                await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }
            using (response)
            {
                if ((int)response.StatusCode >= 500 && attempt < Options.MaxAttempts)
                {
                    await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (!response.IsSuccessStatusCode)
                    throw new RegistryException(withCredentials ? $"the token endpoint refused the credentials of '{credentials!.Username}'." : "the token endpoint refused an anonymous token.",
                        reference.ToString(), builder.Uri, response.StatusCode, null,
                        withCredentials ? "Check the user name and password for this registry." : "The repository is private or does not exist: give credentials, or check the name.");
                byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    using var json = JsonDocument.Parse(body);
                    foreach (string name in new[] { "token", "access_token" })
                        if (json.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } token)
                            return token;
                }
                catch (JsonException)
                {
                }
                throw new RegistryException("the token endpoint's answer has no token (expected JSON with \"token\" or \"access_token\").", reference.ToString(), builder.Uri, response.StatusCode, null,
                    "Fix the registry's token service.");
            }
        }
    }

    /// <summary>True if the scope <paramref name="held"/> (<c>type:name:actions</c>) grants every action of <paramref name="wanted"/>.</summary>
    internal static bool Covers(string held, string wanted)
    {
        int heldColon = held.LastIndexOf(':'), wantedColon = wanted.LastIndexOf(':');
        if (heldColon < 0 || wantedColon < 0) return held == wanted;
        if (!held.AsSpan(0, heldColon).SequenceEqual(wanted.AsSpan(0, wantedColon))) return false;
        var actions = held[(heldColon + 1)..].Split(',');
        return wanted[(wantedColon + 1)..].Split(',').All(a => actions.Contains(a, StringComparer.Ordinal));
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, ImageReference reference, Uri? url, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > MaxManifestBytes)
                throw new RegistryException($"the manifest is more than {MaxManifestBytes} bytes.", reference.ToString(), url, response.StatusCode, null,
                    "The registry serves something that is not a manifest: check the reference.");
        }
        return buffer.ToArray();
    }

    private static string? MediaTypeOf(HttpResponseMessage response, byte[] bytes)
    {
        string? header = response.Content.Headers.ContentType?.MediaType;
        if (MediaTypes.IsIndex(header) || MediaTypes.IsManifest(header)) return header;
        try
        {
            using var json = JsonDocument.Parse(bytes);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("mediaType", out var field) && field.ValueKind == JsonValueKind.String)
            {
                string? own = field.GetString();
                if (MediaTypes.IsIndex(own) || MediaTypes.IsManifest(own)) return own;
            }
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("manifests", out _)) return MediaTypes.OciIndex;
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("layers", out _) && json.RootElement.TryGetProperty("config", out _)) return MediaTypes.OciManifest;
        }
        catch (JsonException)
        {
        }
        return null;
    }

    private static RegistryException Failure(HttpResponseMessage response, ImageReference reference, Digest? digest, string problem)
    {
        string fix = response.StatusCode switch
        {
            HttpStatusCode.NotFound => "Check the name and tag (e.g. with skopeo list-tags docker://REGISTRY/NAME).",
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => "The repository needs credentials, or these credentials may not read it: give the right ones.",
            HttpStatusCode.TooManyRequests => "The registry rate-limits this client: wait, or authenticate to get a higher limit.",
            _ when (int)response.StatusCode >= 500 => "The registry kept failing through every retry: try again later.",
            _ => "Check the reference and the registry.",
        };
        return new RegistryException(problem, reference.ToString(), response.RequestMessage?.RequestUri, response.StatusCode, digest, fix);
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();
}
