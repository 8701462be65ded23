using Sandbox.Images;
using Sandbox.Images.Store;

namespace Sandbox.Cli;

/// <summary><c>--image REF [--store DIR]</c> of <c>sandbox run</c>: the image a sandbox runs on, leased from a store for the run.</summary>
internal static class ImageOption
{
    /// <summary>The environment variable naming the store's directory when --store is not given.</summary>
    public const string StoreVariable = "SANDBOX_STORE";

    /// <summary>The store's directory: --store, then $SANDBOX_STORE, then the library's default.</summary>
    public static string StoreRoot(string? option) =>
        option is { Length: > 0 } ? Path.GetFullPath(option)
        : Environment.GetEnvironmentVariable(StoreVariable) is { Length: > 0 } fromEnvironment ? Path.GetFullPath(fromEnvironment)
        : ImageStoreOptions.DefaultRoot();

    /// <summary>
    /// Leases <paramref name="reference"/> from the store and puts the sandbox on it (with the image's command when
    /// <paramref name="argv"/> is empty). A root store's layers run in a user namespace idmapped; only layers unpacked
    /// before they carried user.overlay.* xattrs need an overlay outside one, so as root the CLI runs such an image
    /// without a user namespace (capabilities are still dropped, no_new_privs still set).
    /// </summary>
    public static (SandboxSpec? Spec, ImageLease? Lease, string? Problem) Open(string reference, string? store, string[] argv)
    {
        if (!ImageReference.TryParse(reference, out var parsed, out string problem))
            return (null, null, $"--image '{reference}': {problem}");
        var lease = ImageStore.Open(new ImageStoreOptions { Root = StoreRoot(store) }).Lease(parsed);
        var image = SandboxImage.From(lease);
        var spec = argv.Length == 0 ? SandboxSpec.FromImage(lease) : SandboxSpec.Command(argv[0], argv.Skip(1)).WithImage(image);
        if (!image.UserXattr && !image.CarriesUserXattr && Environment.IsPrivilegedProcess)
            spec = spec.WithoutNamespaces(SandboxNamespaces.User);
        return (spec, lease, null);
    }
}
