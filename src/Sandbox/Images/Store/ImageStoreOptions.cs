using Sandbox.Images.Layers;

namespace Sandbox.Images.Store;

/// <summary>Where the store lives and how it unpacks layers.</summary>
public sealed record ImageStoreOptions
{
    /// <summary>The store's directory. Default: <see cref="DefaultRoot"/>.</summary>
    public string Root { get; init; } = DefaultRoot();

    /// <summary>How layers are unpacked. Default: <see cref="LayerApplyOptions.ForCurrentUser"/> (overlay whiteouts).</summary>
    public LayerApplyOptions Layers { get; init; } = LayerApplyOptions.ForCurrentUser();

    /// <summary>A copy with another root.</summary>
    public ImageStoreOptions WithRoot(string root) => this with { Root = root };

    /// <summary>A copy with other layer options.</summary>
    public ImageStoreOptions WithLayers(LayerApplyOptions layers) => this with { Layers = layers };

    /// <summary>
    /// /var/lib/sandbox for root; otherwise $XDG_DATA_HOME/sandbox, or ~/.local/share/sandbox when
    /// XDG_DATA_HOME is unset or not absolute.
    /// </summary>
    public static string DefaultRoot() => ChooseRoot(
        Interop.FileSystemCalls.Geteuid(),
        Environment.GetEnvironmentVariable("XDG_DATA_HOME"),
        Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    internal static string ChooseRoot(uint euid, string? xdgDataHome, string? home)
    {
        if (euid == 0) return "/var/lib/sandbox";
        if (!string.IsNullOrEmpty(xdgDataHome) && xdgDataHome.StartsWith('/')) return Path.Combine(xdgDataHome, "sandbox");
        if (string.IsNullOrEmpty(home))
            throw new ImageException("neither XDG_DATA_HOME nor HOME is set, so there is no default place for the image store.", null, null,
                "Set ImageStoreOptions.Root (or HOME).");
        return Path.Combine(home, ".local", "share", "sandbox");
    }
}
