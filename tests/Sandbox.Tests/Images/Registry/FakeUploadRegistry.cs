using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Sandbox.Images.Oci;

namespace Sandbox.Tests.Images.Registry;

/// <summary>
/// An in-memory registry that takes pushes, behind an <see cref="HttpMessageHandler"/>: blobs per repository (HEAD),
/// upload sessions (POST, PATCH with <c>Content-Range</c>, closing PUT with <c>?digest=</c>, digest checked),
/// cross-repository mounts, manifests. Upload locations carry state in their query, and change with every PATCH, so
/// a client that does not follow them fails. Switchable: absolute or relative locations, 503s on the closing PUT, a
/// minimum chunk size, bearer tokens (scopes recorded), refusals (403, 404 NAME_UNKNOWN), a PUT that never answers.
/// </summary>
internal sealed class FakeUploadRegistry : HttpMessageHandler
{
    public const string Host = "127.0.0.1:5000";
    public const string Realm = "http://auth.test/token";

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte[]>> _blobs = new();
    private readonly ConcurrentDictionary<string, (string Repository, MemoryStream Bytes, int State)> _uploads = new();
    private int _putFailuresLeft;

    /// <summary>Every request: method, URL, Content-Range, Content-Type and body length.</summary>
    public ConcurrentQueue<(HttpMethod Method, Uri Url, string? ContentRange, string? ContentType, long BodyBytes)> Requests { get; } = new();

    /// <summary>Manifests put: repository:reference → (content type, bytes).</summary>
    public ConcurrentDictionary<string, (string? ContentType, byte[] Bytes)> Manifests { get; } = new();

    /// <summary>The scope parameters of each token request.</summary>
    public ConcurrentQueue<string[]> TokenScopes { get; } = new();

    public bool AbsoluteLocations { get; set; }

    /// <summary>When set, a started upload is answered 202 without a Location.</summary>
    public bool OmitLocation { get; set; }

    public bool RequireToken { get; set; }

    public long? ChunkMinLength { get; set; }

    public HttpStatusCode? RefuseUploads { get; set; }

    public bool HangOnPut { get; set; }

    /// <summary>When set, the manifest PUT announces this digest instead of the true one.</summary>
    public Digest? AnnounceManifestDigest { get; set; }

    public void FailNextPuts(int count) => _putFailuresLeft = count;

    public Digest AddBlob(string repository, byte[] bytes)
    {
        var digest = Digest.Sha256Of(bytes);
        _blobs.GetOrAdd(repository, _ => new())[digest.ToString()] = bytes;
        return digest;
    }

    public byte[]? Blob(string repository, Digest digest) =>
        _blobs.TryGetValue(repository, out var blobs) && blobs.TryGetValue(digest.ToString(), out var bytes) ? bytes : null;

    public int Count(HttpMethod method) => Requests.Count(r => r.Method == method);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        byte[] body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var url = request.RequestUri!;
        Requests.Enqueue((request.Method, url, request.Content?.Headers.TryGetValues("Content-Range", out var range) == true ? range.First() : null,
            request.Content?.Headers.ContentType?.MediaType, body.Length));
        var response = await AnswerAsync(request, url, body, cancellationToken);
        response.RequestMessage ??= request;
        return response;
    }

    private async Task<HttpResponseMessage> AnswerAsync(HttpRequestMessage request, Uri url, byte[] body, CancellationToken cancellationToken)
    {
        if (url.Authority == "auth.test")
        {
            TokenScopes.Enqueue(System.Web.HttpUtility.ParseQueryString(url.Query).GetValues("scope") ?? []);
            return Respond(HttpStatusCode.OK, "{\"token\":\"token-ok\"}");
        }
        if (RequireToken && request.Headers.Authorization is not { Scheme: "Bearer", Parameter: "token-ok" })
        {
            var challenge = Respond(HttpStatusCode.Unauthorized, "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}");
            challenge.Headers.WwwAuthenticate.Add(new AuthenticationHeaderValue("Bearer", $"realm=\"{Realm}\",service=\"fake\",scope=\"repository:{RepositoryOf(url)}:pull\""));
            return challenge;
        }
        string path = url.AbsolutePath;
        string repository = RepositoryOf(url);
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);
        if (path.Contains("/blobs/uploads/", StringComparison.Ordinal))
        {
            string id = path[(path.IndexOf("/blobs/uploads/", StringComparison.Ordinal) + "/blobs/uploads/".Length)..];
            if (request.Method == HttpMethod.Post) return StartUpload(repository, query);
            if (!_uploads.TryGetValue(id, out var upload) || query["_state"] != upload.State.ToString(System.Globalization.CultureInfo.InvariantCulture))
                return Respond(HttpStatusCode.NotFound, "{\"errors\":[{\"code\":\"BLOB_UPLOAD_UNKNOWN\"}]}");
            if (request.Method == HttpMethod.Patch)
            {
                string? range = request.Content?.Headers.TryGetValues("Content-Range", out var r) == true ? r.First() : null;
                if (range != $"{upload.Bytes.Length}-{upload.Bytes.Length + body.Length - 1}")
                    return Respond(HttpStatusCode.RequestedRangeNotSatisfiable, "{\"errors\":[{\"code\":\"BLOB_UPLOAD_INVALID\"}]}");
                upload.Bytes.Write(body);
                _uploads[id] = upload with { State = upload.State + 1 };
                var accepted = Respond(HttpStatusCode.Accepted, "");
                accepted.Headers.Location = Location(upload.Repository, id, upload.State + 1);
                accepted.Headers.Add("Range", $"0-{upload.Bytes.Length - 1}");
                return accepted;
            }
            if (request.Method == HttpMethod.Put)
            {
                if (HangOnPut) await Task.Delay(Timeout.Infinite, cancellationToken);
                if (Interlocked.Decrement(ref _putFailuresLeft) >= 0)
                {
                    _uploads.TryRemove(id, out _); // the session dies with the failure, as it may on a real registry
                    return Respond(HttpStatusCode.ServiceUnavailable, "busy");
                }
                upload.Bytes.Write(body);
                byte[] bytes = upload.Bytes.ToArray();
                var digest = Digest.Sha256Of(bytes);
                if (query["digest"] != digest.ToString())
                    return Respond(HttpStatusCode.BadRequest, "{\"errors\":[{\"code\":\"DIGEST_INVALID\",\"message\":\"provided digest did not match uploaded content\"}]}");
                _uploads.TryRemove(id, out _);
                AddBlob(upload.Repository, bytes);
                var created = Respond(HttpStatusCode.Created, "");
                created.Headers.Location = new Uri($"/v2/{upload.Repository}/blobs/{digest}", UriKind.Relative);
                created.Headers.Add("Docker-Content-Digest", digest.ToString());
                return created;
            }
        }
        if (path.Contains("/blobs/", StringComparison.Ordinal) && request.Method == HttpMethod.Head)
        {
            string digest = path[(path.IndexOf("/blobs/", StringComparison.Ordinal) + "/blobs/".Length)..];
            return _blobs.TryGetValue(repository, out var blobs) && blobs.ContainsKey(digest) ? Respond(HttpStatusCode.OK, "") : new HttpResponseMessage(HttpStatusCode.NotFound);
        }
        if (path.Contains("/manifests/", StringComparison.Ordinal) && request.Method == HttpMethod.Put)
        {
            string reference = path[(path.IndexOf("/manifests/", StringComparison.Ordinal) + "/manifests/".Length)..];
            Manifests[$"{repository}:{reference}"] = (request.Content?.Headers.ContentType?.MediaType, body);
            var created = Respond(HttpStatusCode.Created, "");
            created.Headers.Add("Docker-Content-Digest", (AnnounceManifestDigest ?? Digest.Sha256Of(body)).ToString());
            return created;
        }
        return Respond(HttpStatusCode.NotFound, "unknown endpoint");
    }

    private HttpResponseMessage StartUpload(string repository, System.Collections.Specialized.NameValueCollection query)
    {
        if (RefuseUploads is HttpStatusCode.NotFound)
            return Respond(HttpStatusCode.NotFound, "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known to registry\"}]}");
        if (RefuseUploads is { } status)
            return Respond(status, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}");
        if (query["mount"] is { } mount && query["from"] is { } from && _blobs.TryGetValue(from, out var source) && source.TryGetValue(mount, out var bytes))
        {
            AddBlob(repository, bytes);
            var mounted = Respond(HttpStatusCode.Created, "");
            mounted.Headers.Location = new Uri($"/v2/{repository}/blobs/{mount}", UriKind.Relative);
            return mounted;
        }
        string id = Guid.NewGuid().ToString("N");
        _uploads[id] = (repository, new MemoryStream(), 1);
        var accepted = Respond(HttpStatusCode.Accepted, "");
        if (!OmitLocation) accepted.Headers.Location = Location(repository, id, 1);
        if (ChunkMinLength is { } min) accepted.Headers.Add("OCI-Chunk-Min-Length", min.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return accepted;
    }

    private Uri Location(string repository, string id, int state)
    {
        string relative = $"/v2/{repository}/blobs/uploads/{id}?_state={state}";
        return AbsoluteLocations ? new Uri($"http://{Host}{relative}") : new Uri(relative, UriKind.Relative);
    }

    private static string RepositoryOf(Uri url)
    {
        string path = url.AbsolutePath["/v2/".Length..];
        foreach (string marker in new[] { "/blobs/", "/manifests/" })
            if (path.IndexOf(marker, StringComparison.Ordinal) is var at and >= 0) return path[..at];
        return path;
    }

    private static HttpResponseMessage Respond(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8) };
}
