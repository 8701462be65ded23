using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;

namespace Sandbox.Tests.Images.Registry;

/// <summary>
/// An in-memory registry behind an <see cref="HttpMessageHandler"/>: one repository, manifests by tag and digest
/// (content negotiated on Accept), blobs, and switchable behaviour — bearer auth (anonymous or Basic), blob
/// redirects to a storage host, 503s before success, a corrupted blob, a blob that never arrives. Records every request.
/// </summary>
internal sealed class FakeRegistry : HttpMessageHandler
{
    public const string Host = "127.0.0.1:5000";
    public const string StorageHost = "storage.test";
    public const string Realm = "http://auth.test/token";

    private readonly ConcurrentDictionary<string, (string MediaType, byte[] Bytes)> _manifests = new();
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new();
    private int _failuresLeft;

    public ConcurrentQueue<HttpRequestMessage> Requests { get; } = new();

    /// <summary>The Authorization header of each request, in order ("" when none).</summary>
    public ConcurrentQueue<(Uri Url, string Authorization)> Authorizations { get; } = new();

    public string Repository { get; init; } = "test/app";

    /// <summary>When set, /v2/ requests need a bearer token from <see cref="Realm"/>.</summary>
    public bool RequireToken { get; set; }

    /// <summary>When set, the token endpoint wants these Basic credentials.</summary>
    public (string User, string Password)? TokenCredentials { get; set; }

    public bool RedirectBlobs { get; set; }

    /// <summary>When set, /v2/ requests need these Basic credentials (a registry behind htpasswd).</summary>
    public (string User, string Password)? RegistryBasic { get; set; }

    /// <summary>When set, manifests are served with this Content-Type instead of their media type.</summary>
    public string? ManifestContentType { get; set; }

    public Digest? CorruptBlob { get; set; }

    public Digest? HangingBlob { get; set; }

    /// <summary>When set, the first response for this blob breaks off (an IOException) half way.</summary>
    public Digest? BreakingBlob { get; set; }

    /// <summary>When set, Range headers are ignored (the whole blob is resent with 200).</summary>
    public bool IgnoreRange { get; set; }

    private int _broken;

    /// <summary>Tokens issued so far.</summary>
    public int TokensIssued;

    public void FailNext(int count) => _failuresLeft = count;

    public Digest AddManifest(string mediaType, string json, params string[] tags)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        var digest = Digest.Sha256Of(bytes);
        _manifests[digest.ToString()] = (mediaType, bytes);
        foreach (var tag in tags) _manifests[tag] = (mediaType, bytes);
        return digest;
    }

    public Digest AddBlob(byte[] bytes)
    {
        var digest = Digest.Sha256Of(bytes);
        _blobs[digest.ToString()] = bytes;
        return digest;
    }

    /// <summary>Adds a one-layer image for <paramref name="architecture"/> and returns its manifest's descriptor JSON parts.</summary>
    public (Digest Manifest, int Size, LayerBlob Layer, string ManifestJson) AddImage(string architecture, LayerTar layer, string? tag = null)
    {
        var (blob, facts) = layer.ToBlob(LayerCompression.Gzip);
        AddBlob(blob);
        string config = $$"""{"architecture":"{{architecture}}","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["{{facts.DiffId}}"]} }""";
        byte[] configBytes = Encoding.UTF8.GetBytes(config);
        var configDigest = AddBlob(configBytes);
        string manifest = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"{{MediaTypes.OciConfig}}","digest":"{{configDigest}}","size":{{configBytes.Length}} },"layers":[{"mediaType":"{{MediaTypes.OciLayerTarGzip}}","digest":"{{facts.Digest}}","size":{{blob.Length}} }]}""";
        var digest = tag is null ? AddManifest(MediaTypes.OciManifest, manifest) : AddManifest(MediaTypes.OciManifest, manifest, tag);
        return (digest, Encoding.UTF8.GetByteCount(manifest), facts, manifest);
    }

    /// <summary>An index under <paramref name="tag"/> listing an amd64 and an arm64 image, each with its own file.</summary>
    public (Digest Amd64, Digest Arm64) AddMultiPlatformImage(string tag, string mediaType = MediaTypes.OciIndex)
    {
        var amd = AddImage("amd64", new LayerTar().File("arch", "amd64"));
        var arm = AddImage("arm64", new LayerTar().File("arch", "arm64"));
        string index = $$"""{"schemaVersion":2,"mediaType":"{{mediaType}}","manifests":[{"mediaType":"{{MediaTypes.OciManifest}}","digest":"{{arm.Manifest}}","size":{{arm.Size}},"platform":{"architecture":"arm64","os":"linux","variant":"v8"} },{"mediaType":"{{MediaTypes.OciManifest}}","digest":"{{amd.Manifest}}","size":{{amd.Size}},"platform":{"architecture":"amd64","os":"linux"} }]}""";
        AddManifest(mediaType, index, tag);
        return (amd.Manifest, arm.Manifest);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await AnswerAsync(request, cancellationToken);
        response.RequestMessage ??= request;
        return response;
    }

    private async Task<HttpResponseMessage> AnswerAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        var url = request.RequestUri!;
        Authorizations.Enqueue((url, request.Headers.Authorization?.ToString() ?? ""));
        if (url.Authority == "auth.test") return IssueToken(request);
        if (url.Authority == StorageHost)
        {
            if (request.Headers.Authorization is not null) return Respond(HttpStatusCode.BadRequest, "credentials leaked to the storage host");
            return ServeBlob(url.AbsolutePath.TrimStart('/'), request.Headers.Range?.Ranges.FirstOrDefault()?.From);
        }
        if (Interlocked.Decrement(ref _failuresLeft) >= 0) return Respond(HttpStatusCode.ServiceUnavailable, "busy");
        if (RequireToken && request.Headers.Authorization is not { Scheme: "Bearer", Parameter: "token-" + "ok" })
        {
            var response = Respond(HttpStatusCode.Unauthorized, "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}");
            response.Headers.WwwAuthenticate.Add(new AuthenticationHeaderValue("Bearer", $"realm=\"{Realm}\",service=\"fake-registry\",scope=\"repository:{Repository}:pull\""));
            return response;
        }
        if (RegistryBasic is var (basicUser, basicPassword)
            && request.Headers.Authorization?.Parameter != Convert.ToBase64String(Encoding.UTF8.GetBytes($"{basicUser}:{basicPassword}")))
        {
            var response = Respond(HttpStatusCode.Unauthorized, "{}");
            response.Headers.WwwAuthenticate.Add(new AuthenticationHeaderValue("Basic", "realm=\"basic-realm\""));
            return response;
        }
        string prefix = $"/v2/{Repository}/";
        if (!url.AbsolutePath.StartsWith(prefix, StringComparison.Ordinal)) return Respond(HttpStatusCode.NotFound, "no such repository");
        string rest = url.AbsolutePath[prefix.Length..];
        if (rest.StartsWith("manifests/", StringComparison.Ordinal))
        {
            string key = rest["manifests/".Length..];
            if (!_manifests.TryGetValue(key, out var manifest)) return Respond(HttpStatusCode.NotFound, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}");
            var accepted = request.Headers.Accept.Select(a => a.MediaType).ToList();
            if (!accepted.Contains(manifest.MediaType)) return Respond(HttpStatusCode.NotFound, "not acceptable");
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(manifest.Bytes), RequestMessage = request };
            response.Content.Headers.ContentType = new MediaTypeHeaderValue(ManifestContentType ?? manifest.MediaType);
            response.Headers.Add("Docker-Content-Digest", Digest.Sha256Of(manifest.Bytes).ToString());
            return response;
        }
        if (rest.StartsWith("blobs/", StringComparison.Ordinal))
        {
            string digest = rest["blobs/".Length..];
            if (HangingBlob?.ToString() == digest)
                await Task.Delay(Timeout.Infinite, cancellationToken);
            if (RedirectBlobs)
            {
                var response = new HttpResponseMessage(HttpStatusCode.TemporaryRedirect) { RequestMessage = request };
                response.Headers.Location = new Uri($"http://{StorageHost}/{digest}?signature=x");
                return response;
            }
            var served = ServeBlob(digest, request.Headers.Range?.Ranges.FirstOrDefault()?.From);
            served.RequestMessage = request;
            return served;
        }
        return Respond(HttpStatusCode.NotFound, "unknown endpoint");
    }

    private HttpResponseMessage ServeBlob(string digest, long? from)
    {
        if (!_blobs.TryGetValue(digest, out var bytes)) return Respond(HttpStatusCode.NotFound, "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\"}]}");
        if (CorruptBlob?.ToString() == digest)
        {
            bytes = (byte[])bytes.Clone();
            bytes[^1] ^= 0xFF;
        }
        if (BreakingBlob?.ToString() == digest && Interlocked.Exchange(ref _broken, 1) == 0)
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new BreakingStream(bytes, bytes.Length / 2)) };
        if (from is { } start && !IgnoreRange)
        {
            var partial = new HttpResponseMessage(HttpStatusCode.PartialContent) { Content = new ByteArrayContent(bytes[(int)start..]) };
            partial.Content.Headers.ContentRange = new ContentRangeHeaderValue(start, bytes.Length - 1, bytes.Length);
            return partial;
        }
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new MemoryStream(bytes)) };
    }

    private HttpResponseMessage IssueToken(HttpRequestMessage request)
    {
        var query = System.Web.HttpUtility.ParseQueryString(request.RequestUri!.Query);
        if (query["service"] != "fake-registry" || query["scope"] != $"repository:{Repository}:pull")
            return Respond(HttpStatusCode.BadRequest, "wrong service or scope");
        if (TokenCredentials is var (user, password))
        {
            string expected = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
            if (request.Headers.Authorization is not { Scheme: "Basic" } basic || basic.Parameter != expected)
                return Respond(HttpStatusCode.Unauthorized, "bad credentials");
        }
        Interlocked.Increment(ref TokensIssued);
        return Respond(HttpStatusCode.OK, "{\"token\":\"token-ok\",\"expires_in\":300}");
    }

    private static HttpResponseMessage Respond(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body) };

    /// <summary>Gives <c>breakAt</c> bytes, then fails as a reset connection does.</summary>
    private sealed class BreakingStream(byte[] bytes, int breakAt) : Stream
    {
        private readonly MemoryStream _inner = new(bytes[..breakAt]);

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = _inner.Read(buffer, offset, count);
            return n > 0 ? n : throw new IOException("connection reset by peer (fake)");
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
