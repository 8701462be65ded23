using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Sandbox.Images.Oci;

namespace Sandbox.Images.Registry;

public sealed partial class RegistryClient
{
    private const int MaxErrorBodyBytes = 64 << 10;

    /// <summary>
    /// True if <paramref name="repository"/> has the blob <paramref name="digest"/> (a HEAD answered 200), false if it
    /// answered 404. Asks for a token that may push, as a push does next.
    /// </summary>
    public async Task<bool> BlobExistsAsync(ImageReference repository, Digest digest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var url = RepositoryUrl(repository, "blobs/" + digest);
        using var response = await SendWithRetriesAsync(repository, HttpMethod.Head, url, PushScope(repository), u => new HttpRequestMessage(HttpMethod.Head, u),
            retryTooManyRequests: false, Options.MaxAttempts, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode) return true;
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        throw await PushFailureAsync(HttpMethod.Head, response, repository, digest, "the registry would not say whether it has the blob.", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Pushes the blob <paramref name="descriptor"/> to <paramref name="destination"/>'s repository unless it is there
    /// already (HEAD). When <paramref name="mountFrom"/> is another repository on the same registry the registry is
    /// first asked to mount the blob from it (<c>POST …/blobs/uploads/?mount=DIGEST&amp;from=REPO</c>); if it cannot, the
    /// upload it starts instead is used. Blobs up to <see cref="RegistryClientOptions.MonolithicUploadLimit"/> go in one
    /// PUT, bigger ones in PATCH chunks with <c>Content-Range</c>; every <c>Location</c> the registry gives (relative or
    /// absolute) is followed. A 5xx answer or a broken connection restarts the upload after a doubling backoff, up to
    /// <see cref="RegistryClientOptions.MaxAttempts"/> times; other failures are a <see cref="RegistryException"/> at once.
    /// <paramref name="openBlob"/> opens the blob's bytes from the start (it is called again for each attempt).
    /// <paramref name="progress"/> hears of uploaded bytes (as <see cref="BlobProgress.BytesRead"/>) and, once the
    /// registry accepted the blob, of its completion; a blob skipped or mounted reports nothing.
    /// </summary>
    public async Task<BlobPushOutcome> PushBlobAsync(ImageReference destination, Descriptor descriptor, Func<Stream> openBlob, ImageReference? mountFrom = null,
        IProgress<BlobProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(openBlob);
        if (await BlobExistsAsync(destination, descriptor.Digest, cancellationToken).ConfigureAwait(false))
            return BlobPushOutcome.AlreadyThere;
        var mount = mountFrom is not null && mountFrom.Registry.Equals(destination.Registry, StringComparison.OrdinalIgnoreCase)
            && mountFrom.Repository != destination.Repository ? mountFrom : null;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var outcome = await UploadOnceAsync(destination, descriptor, openBlob, mount, progress, cancellationToken).ConfigureAwait(false);
                if (outcome == BlobPushOutcome.Uploaded)
                    progress?.Report(new BlobProgress(descriptor.Digest, descriptor.MediaType, descriptor.Size, descriptor.Size, Completed: true));
                return outcome;
            }
            catch (TransientUploadException e)
            {
                if (attempt >= Options.MaxAttempts) throw e.Failure;
                await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
            }
            catch (RegistryException e) when (mount is not null && e.Method == HttpMethod.Post && e.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                mount = null; // these credentials may not read the mount's source: upload instead
                attempt--;
            }
        }
    }

    /// <summary>
    /// Puts <paramref name="manifest"/> (bytes sent unchanged, with <paramref name="mediaType"/> as Content-Type) under
    /// <paramref name="destination"/>'s tag (or digest) and returns its digest, checked against the registry's
    /// <c>Docker-Content-Digest</c>. Every blob it names must be in the repository already.
    /// </summary>
    public async Task<Digest> PutManifestAsync(ImageReference destination, string mediaType, byte[] manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentException.ThrowIfNullOrEmpty(mediaType);
        ArgumentNullException.ThrowIfNull(manifest);
        var digest = Digest.Sha256Of(manifest);
        if (destination.Digest is { } pinned && pinned != digest)
            throw new RegistryException(HttpMethod.Put, $"the manifest's digest is {digest}, not the {pinned} the destination names.", destination.ToString(), null, null, pinned,
                "Push to a tag (without @digest), or name the image's own digest.");
        string tagOrDigest = destination.Tag ?? destination.Digest?.ToString() ?? ImageReference.DefaultTag;
        var url = RepositoryUrl(destination, "manifests/" + tagOrDigest);
        using var response = await SendWithRetriesAsync(destination, HttpMethod.Put, url, PushScope(destination), u =>
        {
            var content = new ByteArrayContent(manifest);
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return new HttpRequestMessage(HttpMethod.Put, u) { Content = content };
        }, retryTooManyRequests: false, Options.MaxAttempts, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw await PushFailureAsync(HttpMethod.Put, response, destination, digest, $"the registry did not accept the manifest ({mediaType}).", cancellationToken).ConfigureAwait(false);
        if (AnnouncedDigest(response) is { } announced && announced != digest)
            throw new RegistryException(HttpMethod.Put, $"the registry stored the manifest as {announced}, not {digest}.", destination.ToString(), url, response.StatusCode, digest,
                "The registry rewrote the manifest (e.g. converted its format): push to a registry that stores manifests as sent.");
        return digest;
    }

    /// <summary>One try: start (or mount), send the bytes (whole or in chunks), close with the digest.</summary>
    private async Task<BlobPushOutcome> UploadOnceAsync(ImageReference destination, Descriptor descriptor, Func<Stream> openBlob, ImageReference? mountFrom,
        IProgress<BlobProgress>? progress, CancellationToken cancellationToken)
    {
        var digest = descriptor.Digest;
        string scope = PushScope(destination) + (mountFrom is null ? "" : " " + PullScope(mountFrom));
        string query = mountFrom is null ? "" : $"?mount={Uri.EscapeDataString(digest.ToString())}&from={Uri.EscapeDataString(mountFrom.Repository)}";
        var startUrl = RepositoryUrl(destination, "blobs/uploads/" + query);
        Uri location;
        long chunkBytes = Math.Max(1, Options.UploadChunkBytes);
        using (var started = await SendUploadStepAsync(destination, HttpMethod.Post, startUrl, scope, u => new HttpRequestMessage(HttpMethod.Post, u) { Content = new ByteArrayContent([]) },
                   digest, cancellationToken).ConfigureAwait(false))
        {
            if (started.StatusCode == HttpStatusCode.Created && mountFrom is not null)
                return BlobPushOutcome.Mounted;
            if (started.StatusCode != HttpStatusCode.Accepted)
                throw await PushFailureAsync(HttpMethod.Post, started, destination, digest, "the registry would not start an upload.", cancellationToken).ConfigureAwait(false);
            location = UploadLocation(started, destination, digest, HttpMethod.Post);
            if (started.Headers.TryGetValues("OCI-Chunk-Min-Length", out var minimum) && long.TryParse(minimum.FirstOrDefault(), out long min) && min > chunkBytes)
                chunkBytes = min;
        }

        long sent = 0;
        void Sent(int n)
        {
            sent += n;
            progress?.Report(new BlobProgress(digest, descriptor.MediaType, sent, descriptor.Size, Completed: false));
        }

        if (descriptor.Size > Options.MonolithicUploadLimit)
        {
            for (long offset = 0; offset < descriptor.Size; offset += chunkBytes)
            {
                long length = Math.Min(chunkBytes, descriptor.Size - offset);
                long from = offset;
                using var patched = await SendUploadStepAsync(destination, HttpMethod.Patch, location, scope, u =>
                {
                    sent = from; // a resend (new token, redirect) starts the chunk again
                    var content = Body(OpenAt(openBlob, from), length, Sent);
                    content.Headers.TryAddWithoutValidation("Content-Range", $"{from}-{from + length - 1}");
                    return new HttpRequestMessage(HttpMethod.Patch, u) { Content = content };
                }, digest, cancellationToken).ConfigureAwait(false);
                if (patched.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
                    throw new TransientUploadException(await PushFailureAsync(HttpMethod.Patch, patched, destination, digest,
                        $"the registry refused the chunk {from}-{from + length - 1}.", cancellationToken).ConfigureAwait(false));
                if (patched.StatusCode != HttpStatusCode.Accepted)
                    throw await PushFailureAsync(HttpMethod.Patch, patched, destination, digest, $"the registry did not accept the chunk {from}-{from + length - 1}.", cancellationToken).ConfigureAwait(false);
                if (patched.Headers.Location is not null) location = UploadLocation(patched, destination, digest, HttpMethod.Patch);
            }
        }

        var closeUrl = WithQuery(location, "digest", digest.ToString());
        bool monolithic = descriptor.Size <= Options.MonolithicUploadLimit;
        using var closed = await SendUploadStepAsync(destination, HttpMethod.Put, closeUrl, scope, u =>
        {
            if (monolithic) sent = 0; // a resend (new token, redirect) sends the blob again
            HttpContent body = monolithic ? Body(openBlob(), descriptor.Size, Sent) : new ByteArrayContent([]);
            return new HttpRequestMessage(HttpMethod.Put, u) { Content = body };
        }, digest, cancellationToken).ConfigureAwait(false);
        if (closed.StatusCode is HttpStatusCode.BadRequest && (await ReadErrorAsync(closed, cancellationToken).ConfigureAwait(false)).Contains("DIGEST_INVALID", StringComparison.Ordinal))
            throw new RegistryException(HttpMethod.Put, "the registry computed another digest for the bytes sent (DIGEST_INVALID).", destination.ToString(), closed.RequestMessage?.RequestUri, closed.StatusCode, digest,
                "The store's copy of the blob is damaged: pull or import the image again, then push.");
        if (closed.StatusCode != HttpStatusCode.Created && closed.StatusCode != HttpStatusCode.NoContent && closed.StatusCode != HttpStatusCode.OK)
            throw await PushFailureAsync(HttpMethod.Put, closed, destination, digest, "the registry did not accept the blob.", cancellationToken).ConfigureAwait(false);
        if (AnnouncedDigest(closed) is { } announced && announced != digest)
            throw new RegistryException(HttpMethod.Put, $"the registry stored the blob as {announced}, not {digest}.", destination.ToString(), closed.RequestMessage?.RequestUri, closed.StatusCode, digest,
                "The registry is broken or something between rewrites uploads: push to a registry you trust.");
        return BlobPushOutcome.Uploaded;
    }

    /// <summary>Sends one step of an upload; a 5xx answer or a broken connection is a <see cref="TransientUploadException"/> (the upload starts over).</summary>
    private async Task<HttpResponseMessage> SendUploadStepAsync(ImageReference destination, HttpMethod method, Uri url, string scope, Func<Uri, HttpRequestMessage> createRequest,
        Digest digest, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await SendFollowingRedirectsAsync(destination, url, scope, createRequest, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new TransientUploadException(new RegistryException(method, $"the upload broke off: {e.Message}", destination.ToString(), url, null, digest,
                $"Check that the registry '{destination.Registry}' is reachable (DNS, proxy, firewall) and push again (blobs already there are skipped).", e));
        }
        if ((int)response.StatusCode >= 500)
        {
            using (response)
                throw new TransientUploadException(await PushFailureAsync(method, response, destination, digest, "the registry failed.", cancellationToken).ConfigureAwait(false));
        }
        return response;
    }

    private static StreamContent Body(Stream blob, long length, Action<int> sent)
    {
        var content = new StreamContent(new UploadBodyStream(blob, length, sent, ownsBlob: true));
        content.Headers.ContentLength = length;
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    /// <summary>The blob opened and moved to <paramref name="offset"/> (by seeking, or by reading past what comes before).</summary>
    private static Stream OpenAt(Func<Stream> openBlob, long offset)
    {
        var blob = openBlob();
        if (offset == 0) return blob;
        if (blob.CanSeek)
        {
            blob.Seek(offset, SeekOrigin.Begin);
            return blob;
        }
        var skip = new byte[81920];
        for (long left = offset; left > 0;)
        {
            int n = blob.Read(skip, 0, (int)Math.Min(skip.Length, left));
            if (n == 0)
            {
                blob.Dispose();
                throw new EndOfStreamException($"the blob is shorter than {offset} bytes.");
            }
            left -= n;
        }
        return blob;
    }

    /// <summary>The <c>Location</c> of an upload, resolved against the URL that answered (it may be relative, and carry state in its query).</summary>
    private static Uri UploadLocation(HttpResponseMessage response, ImageReference destination, Digest digest, HttpMethod method)
    {
        var answered = response.RequestMessage?.RequestUri;
        var location = response.Headers.Location
            ?? throw new RegistryException(method, "the registry answered without the Location of the upload.", destination.ToString(), answered, response.StatusCode, digest,
                "The registry does not follow the distribution API: push with another tool, or to another registry.");
        if (location.IsAbsoluteUri) return location;
        return answered is null ? throw new InvalidOperationException("a response without its request") : new Uri(answered, location);
    }

    private static Uri WithQuery(Uri url, string name, string value)
    {
        var builder = new UriBuilder(url);
        string existing = builder.Query.TrimStart('?');
        builder.Query = (existing.Length > 0 ? existing + "&" : "") + name + "=" + Uri.EscapeDataString(value);
        return builder.Uri;
    }

    private Uri RepositoryUrl(ImageReference reference, string path) => new(BaseUri(reference.Registry), $"v2/{reference.Repository}/{path}");

    /// <summary>The token scope for pushing to <paramref name="reference"/>'s repository.</summary>
    private static string PushScope(ImageReference reference) => $"repository:{reference.Repository}:pull,push";

    private static Digest? AnnouncedDigest(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var announced, out _) ? announced : null;

    /// <summary>The registry's own error codes and messages (<c>{"errors":[{"code":…,"message":…}]}</c>), or "".</summary>
    private static async Task<string> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[MaxErrorBodyBytes];
            int total = 0, n;
            while (total < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0) total += n;
            using var json = JsonDocument.Parse(buffer.AsMemory(0, total));
            if (!json.RootElement.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.Array) return "";
            return string.Join("; ", errors.EnumerateArray().Select(e =>
                $"{(e.TryGetProperty("code", out var c) ? c.ToString() : "?")}{(e.TryGetProperty("message", out var m) && m.ToString() is { Length: > 0 } text ? ": " + text : "")}"));
        }
        catch (Exception e) when (e is JsonException or IOException or HttpRequestException or ObjectDisposedException or InvalidOperationException)
        {
            return "";
        }
    }

    /// <summary>A failed push request: what the registry said (its error codes too), which repository and blob, and the fix for that status.</summary>
    private static async Task<RegistryException> PushFailureAsync(HttpMethod method, HttpResponseMessage response, ImageReference destination, Digest? digest, string problem,
        CancellationToken cancellationToken)
    {
        string errors = method == HttpMethod.Head ? "" : await ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
        string repository = $"{destination.Registry}/{destination.Repository}";
        string fix = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => $"The registry wants credentials that may push to '{repository}': give them (RegistryClientOptions.WithCredentials; "
                + "in the CLI --username with --password-stdin, or SANDBOX_REGISTRY_USERNAME and SANDBOX_REGISTRY_PASSWORD).",
            HttpStatusCode.Forbidden => $"These credentials may not push to '{repository}': use an account with push rights to it, or push to a repository you own.",
            HttpStatusCode.NotFound => $"The registry has no repository '{repository}' and does not create it on push: create it first, or check the name.",
            HttpStatusCode.MethodNotAllowed => "The registry does not take pushes (a read-only mirror or a pull-through cache): push to another registry.",
            HttpStatusCode.RequestEntityTooLarge => "The registry or a proxy caps a request's size: upload in smaller chunks (RegistryClientOptions.WithUploadChunking).",
            HttpStatusCode.TooManyRequests => "The registry rate-limits this client: wait, or authenticate to get a higher limit.",
            HttpStatusCode.BadRequest when errors.Contains("BLOB_UNKNOWN", StringComparison.Ordinal) =>
                "A blob the manifest names is not in the repository: push the image's layers and config first (ImageStore.PushAsync does).",
            HttpStatusCode.BadRequest when errors.Contains("MANIFEST_INVALID", StringComparison.Ordinal) || errors.Contains("UNSUPPORTED", StringComparison.Ordinal) =>
                "The registry does not take this kind of manifest: push to a registry that supports OCI (or Docker v2) manifests.",
            _ when (int)response.StatusCode >= 500 => $"The registry '{destination.Registry}' kept failing through every retry: try again later.",
            _ => "Check the destination reference and the registry.",
        };
        return new RegistryException(method, problem + (errors.Length > 0 ? $" The registry says: {errors}." : ""), destination.ToString(),
            response.RequestMessage?.RequestUri, response.StatusCode, digest, fix);
    }
}
