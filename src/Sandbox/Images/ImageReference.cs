using System.Text.RegularExpressions;
using Sandbox.Images.Oci;

namespace Sandbox.Images;

/// <summary>
/// An image reference, <c>[registry/]repository[:tag][@digest]</c>, read as Docker reads it: without a
/// registry it is <c>docker.io</c>, a one-component name there is under <c>library/</c>, and without a tag or
/// digest the tag is <c>latest</c>. <c>busybox</c> is <c>docker.io/library/busybox:latest</c>.
/// </summary>
/// <param name="Registry">The registry host (and port): <c>docker.io</c>, <c>ghcr.io</c>, <c>localhost:5000</c>.</param>
/// <param name="Repository">The repository path: <c>library/busybox</c>.</param>
/// <param name="Tag">The tag, or null if the reference pins a digest only.</param>
/// <param name="Digest">The manifest digest, or null.</param>
public sealed partial record ImageReference(string Registry, string Repository, string? Tag, Digest? Digest)
{
    /// <summary>Docker Hub as references name it.</summary>
    public const string DockerHub = "docker.io";

    /// <summary>The tag a reference without tag or digest gets.</summary>
    public const string DefaultTag = "latest";

    private const int MaxNameLength = 255;

    /// <summary>Parses a reference; <see cref="FormatException"/> says what is wrong and how it should look.</summary>
    public static ImageReference Parse(string text) =>
        TryParse(text, out var reference, out var problem)
            ? reference
            : throw new FormatException($"'{text}' is not an image reference: {problem}. Expected [registry/]name[:tag][@sha256:digest], e.g. busybox, debian:12 or ghcr.io/org/app@sha256:….");

    /// <summary>Parses a reference; false with the problem if it is not one.</summary>
    public static bool TryParse(string? text, out ImageReference reference, out string problem)
    {
        reference = null!;
        if (string.IsNullOrEmpty(text))
        {
            problem = "it is empty";
            return false;
        }
        string rest = text;
        Digest? digest = null;
        int at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            if (!Oci.Digest.TryParse(rest[(at + 1)..], out var d, out var digestProblem))
            {
                problem = $"the digest is invalid ({digestProblem})";
                return false;
            }
            digest = d;
            rest = rest[..at];
        }
        string? tag = null;
        int lastSlash = rest.LastIndexOf('/');
        int colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                problem = $"the tag '{tag}' is invalid (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')";
                return false;
            }
        }
        if (rest.Length == 0)
        {
            problem = "the name is empty";
            return false;
        }
        string registry;
        string path;
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string first = slash < 0 ? "" : rest[..slash];
        if (slash >= 0 && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost" || first.Any(char.IsUpper)))
        {
            registry = first;
            path = rest[(slash + 1)..];
            if (!DomainPattern().IsMatch(registry))
            {
                problem = $"the registry '{registry}' is not a host name with an optional port";
                return false;
            }
            if (registry == "index.docker.io") registry = DockerHub;
        }
        else
        {
            registry = DockerHub;
            path = rest;
        }
        if (registry == DockerHub && !path.Contains('/', StringComparison.Ordinal))
            path = "library/" + path;
        foreach (var component in path.Split('/'))
        {
            if (!PathComponentPattern().IsMatch(component))
            {
                problem = component.Any(char.IsUpper)
                    ? $"the repository name '{path}' must be lowercase"
                    : $"the repository component '{component}' is invalid (lowercase letters and digits, separated by '.', '_', '__' or dashes)";
                return false;
            }
        }
        if (registry.Length + 1 + path.Length > MaxNameLength)
        {
            problem = $"the name is longer than {MaxNameLength} characters";
            return false;
        }
        if (slash < 0 && tag is null && digest is null && HexIdPattern().IsMatch(rest))
        {
            problem = "a 64-digit hex string is an image id, not a name";
            return false;
        }
        if (tag is null && digest is null)
            tag = DefaultTag;
        reference = new ImageReference(registry, path, tag, digest);
        problem = "";
        return true;
    }

    /// <summary>The full name, <c>registry/repository</c>.</summary>
    public string Name => $"{Registry}/{Repository}";

    /// <summary>The short form Docker shows: <c>busybox:latest</c>, <c>ghcr.io/org/app:1</c>.</summary>
    public string FamiliarName
    {
        get
        {
            // Docker Hub is left out unless the first component would then read as a registry (x.y/app).
            string first = Repository[..(Repository.IndexOf('/') is var i and >= 0 ? i : Repository.Length)];
            bool readsAsRegistry = first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost";
            string name = Registry != DockerHub || readsAsRegistry ? Name
                : Repository.StartsWith("library/", StringComparison.Ordinal) && Repository.IndexOf('/', 8) < 0 ? Repository[8..]
                : Repository;
            return name + Suffix;
        }
    }

    /// <summary>The same name with another tag (and no digest).</summary>
    public ImageReference WithTag(string tag) =>
        Parse($"{Name}:{tag}");

    /// <summary>The same name pinned to <paramref name="digest"/>.</summary>
    public ImageReference WithDigest(Digest digest) => this with { Digest = digest };

    private string Suffix => (Tag is null ? "" : ":" + Tag) + (Digest is { } d ? "@" + d : "");

    /// <summary>The canonical form: <c>docker.io/library/busybox:latest</c>.</summary>
    public override string ToString() => Name + Suffix;

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$|^\[[0-9a-fA-F:.]+\](?::[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex DomainPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex PathComponentPattern();

    [GeneratedRegex(@"^[a-f0-9]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex HexIdPattern();
}
