using System.Net;
using Sandbox.Images.Oci;

namespace Sandbox.Images.Registry;

/// <summary>A registry request failed: the image, the URL, the HTTP status (null for a transport error) and a fix.</summary>
public sealed class RegistryException : ImageException
{
    /// <summary>Creates the exception for a GET.</summary>
    public RegistryException(string problem, string? image, Uri? url, HttpStatusCode? status, Digest? digest, string fix, Exception? innerException = null)
        : this(HttpMethod.Get, problem, image, url, status, digest, fix, innerException)
    {
    }

    /// <summary>Creates the exception for a request with <paramref name="method"/> (HEAD, POST, PATCH, PUT when pushing).</summary>
    public RegistryException(HttpMethod method, string problem, string? image, Uri? url, HttpStatusCode? status, Digest? digest, string fix, Exception? innerException = null)
        : base(Describe(method, problem, url, status), image, digest, fix, innerException)
    {
        Method = method;
        Url = url;
        Status = status;
    }

    /// <summary>The request's method.</summary>
    public HttpMethod Method { get; }

    /// <summary>The URL requested (after redirects), if any.</summary>
    public Uri? Url { get; }

    /// <summary>The registry's answer, or null if none came.</summary>
    public HttpStatusCode? Status { get; }

    private static string Describe(HttpMethod method, string problem, Uri? url, HttpStatusCode? status) =>
        (url, status) switch
        {
            (null, _) => problem,
            (not null, null) => $"{method} {url}: {problem}",
            (not null, { } s) => $"{method} {url} answered {(int)s} {s}: {problem}",
        };
}
