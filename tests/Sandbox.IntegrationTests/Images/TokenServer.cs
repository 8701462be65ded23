using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Sandbox.IntegrationTests.Images;

/// <summary>
/// A minimal token service for a registry's <c>auth: token:</c> (the distribution token spec): an HttpListener on
/// loopback that, for Basic credentials <c>alice:secret</c>, issues ES256 JWTs carrying the scopes asked for, signed
/// with a self-signed certificate whose chain (x5c) the registry checks against <see cref="CertificatePath"/>.
/// Anything else gets 401.
/// </summary>
internal sealed class TokenServer : IDisposable
{
    public const string User = "alice";
    public const string Password = "secret";
    public const string Service = "sandbox-test-registry";
    public const string Issuer = "sandbox-test-issuer";

    private readonly HttpListener _listener = new();
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _certificate;
    private readonly Task _serving;

    public TokenServer(string directory)
    {
        var request = new CertificateRequest("CN=sandbox test token issuer", _key, HashAlgorithmName.SHA256);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        CertificatePath = Path.Combine(directory, "token-issuer.pem");
        File.WriteAllText(CertificatePath, _certificate.ExportCertificatePem());
        Port = LocalRegistry.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string CertificatePath { get; }

    public string Realm => $"http://127.0.0.1:{Port}/token";

    /// <summary>Each token request: the user it authenticated as (null: anonymous or refused), and the scopes.</summary>
    public ConcurrentQueue<(string? User, string Scopes, bool Issued)> Requests { get; } = new();

    /// <summary>The registry's <c>auth:</c> section for this service.</summary>
    public string RegistryAuthSection => $"""
        token:
          realm: {Realm}
          service: {Service}
          issuer: {Issuer}
          rootcertbundle: {CertificatePath}
        """;

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            try
            {
                Answer(context);
            }
            finally
            {
                context.Response.Close();
            }
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var scopes = context.Request.QueryString.GetValues("scope") ?? [];
        string? user = null;
        string? header = context.Request.Headers["Authorization"];
        if (header is not null && header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            string pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..]));
            if (pair == $"{User}:{Password}") user = User;
        }
        bool issue = user is not null && context.Request.QueryString["service"] == Service;
        Requests.Enqueue((user, string.Join(' ', scopes), issue));
        if (!issue)
        {
            context.Response.StatusCode = 401;
            return;
        }
        string token = CreateToken(user!, scopes);
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(new { token, access_token = token, expires_in = 300, issued_at = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) });
        context.Response.ContentType = "application/json";
        context.Response.OutputStream.Write(body);
    }

    private string CreateToken(string subject, IEnumerable<string> scopes)
    {
        var access = scopes.Select(s => s.Split(':')).Where(p => p.Length == 3)
            .Select(p => new { type = p[0], name = p[1], actions = p[2].Split(',') }).ToArray();
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new { alg = "ES256", typ = "JWT", x5c = new[] { Convert.ToBase64String(_certificate.RawData) } };
        var claims = new { iss = Issuer, sub = subject, aud = Service, exp = now + 300, nbf = now - 60, iat = now, jti = Guid.NewGuid().ToString("N"), access };
        string signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        byte[] signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _certificate.Dispose();
        _key.Dispose();
    }
}
