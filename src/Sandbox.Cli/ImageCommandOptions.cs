using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using Sandbox.Images;
using Sandbox.Images.Oci;
using Sandbox.Images.Store;

namespace Sandbox.Cli;

/// <summary>What the image commands (pull, push, images, rmi, import) share: the store's location and how references, registry hosts and platforms are read.</summary>
internal static partial class ImageCommandOptions
{
    /// <summary>The environment variable naming the store when <c>--store</c> is not given.</summary>
    public const string StoreVariable = "SANDBOX_STORE";

    public static Option<string?> CreateStoreOption() => new("--store")
    {
        Description = $"The image store's directory (default: ${StoreVariable}, else /var/lib/sandbox for root, ~/.local/share/sandbox otherwise).",
    };

    /// <summary>The store's directory: <c>--store</c>, then <c>$SANDBOX_STORE</c>, then the default; made absolute.</summary>
    public static string ResolveStoreRoot(string? option, string? environment)
    {
        string root = !string.IsNullOrWhiteSpace(option) ? option
            : !string.IsNullOrWhiteSpace(environment) ? environment
            : ImageStoreOptions.DefaultRoot();
        return Path.GetFullPath(root);
    }

    /// <summary>Opens the store named by the options (or the environment), or writes why not and returns null.</summary>
    public static ImageStore? OpenStore(string? option, TextWriter error, string command)
    {
        try
        {
            return ImageStore.Open(new ImageStoreOptions { Root = ResolveStoreRoot(option, Environment.GetEnvironmentVariable(StoreVariable)) });
        }
        catch (ImageException e)
        {
            error.WriteLine($"sandbox {command}: {e.Message}");
            return null;
        }
    }

    /// <summary>An image reference, or the problem with it.</summary>
    public static bool TryParseReference(string? text, [NotNullWhen(true)] out ImageReference? reference, out string problem)
    {
        reference = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = "the image reference is empty: give one, e.g. busybox, debian:12 or 127.0.0.1:5000/app:1.";
            return false;
        }
        if (!ImageReference.TryParse(text.Trim(), out var parsed, out string why))
        {
            problem = $"'{text}' is not an image reference: {why}. Expected [registry/]name[:tag][@sha256:digest], e.g. busybox or 127.0.0.1:5000/app:1.";
            return false;
        }
        reference = parsed;
        problem = "";
        return true;
    }

    /// <summary>A registry host for <c>--insecure-registry</c>: <c>host[:port]</c>, without a scheme or a path.</summary>
    public static bool TryParseRegistryHost(string? text, [NotNullWhen(true)] out string? host, out string problem)
    {
        host = text?.Trim();
        if (string.IsNullOrEmpty(host) || !RegistryHostPattern().IsMatch(host))
        {
            problem = $"'{text}' is not a registry host: give host[:port] as it appears in the image reference, e.g. 127.0.0.1:5000 or registry.local (no http://, no path).";
            host = null;
            return false;
        }
        problem = "";
        return true;
    }

    /// <summary>A platform for <c>--platform</c>: <c>os/arch[/variant]</c>, e.g. <c>linux/arm64</c>.</summary>
    public static bool TryParsePlatform(string? text, [NotNullWhen(true)] out Platform? platform, out string problem)
    {
        platform = null;
        string[] parts = (text ?? "").Trim().Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => !PlatformPartPattern().IsMatch(p)))
        {
            problem = $"'{text}' is not a platform: give os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8.";
            return false;
        }
        platform = new Platform(parts[1], parts[0], parts.Length == 3 ? parts[2] : null);
        problem = "";
        return true;
    }

    /// <summary>Bytes in a short human form: 512 B, 1.5 KiB, 3.2 MiB.</summary>
    public static string FormatBytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    [GeneratedRegex(@"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$", RegexOptions.CultureInvariant)]
    private static partial Regex RegistryHostPattern();

    [GeneratedRegex(@"^[a-z0-9_]+$", RegexOptions.CultureInvariant)]
    private static partial Regex PlatformPartPattern();
}
