using System.Net;
using Sandbox.Images.Oci;

namespace Sandbox.Images.Registry;

/// <summary>A registry request failed: the image, the URL, the HTTP status (null for a transport error) and a fix.</summary>
public sealed class RegistryException : ImageException
{
    /// <summary>Creates the exception.</summary>
    public RegistryException(string problem, string? image, Uri? url, HttpStatusCode? status, Digest? digest, string fix, Exception? innerException = null)
        : base(Describe(problem, url, status), image, digest, fix, innerException)
    {
        Url = url;
        Status = status;
    }

    /// <summary>The URL requested (after redirects), if any.</summary>
    public Uri? Url { get; }

    /// <summary>The registry's answer, or null if none came.</summary>
    public HttpStatusCode? Status { get; }

    private static string Describe(string problem, Uri? url, HttpStatusCode? status) =>
        (url, status) switch
        {
            (null, _) => problem,
            (not null, null) => $"GET {url}: {problem}",
            (not null, { } s) => $"GET {url} answered {(int)s} {s}: {problem}",
        };
}
