using Sandbox.Images.Oci;
using Sandbox.Images.Registry;

namespace Sandbox.Images.Store;

public sealed partial class ImageStore
{
    /// <summary>
    /// Pulls <paramref name="reference"/> from its registry into the store under that name: the manifest (for
    /// <paramref name="platform"/>, default this host, when the reference names an index), the config, and every layer
    /// not yet in the store, streamed, verified and unpacked as <see cref="ImportAsync(ImageSource, ImageReference, string?, Platform?, CancellationToken)"/> does (a failed or cancelled
    /// pull leaves no partial layer and no name).
    /// </summary>
    public async Task<StoredImage> PullAsync(RegistryClient client, ImageReference reference, Platform? platform = null, IProgress<BlobProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(reference);
        using var source = await RegistryImageSource.OpenAsync(client, reference, progress, cancellationToken).ConfigureAwait(false);
        return await ImportAsync(source, reference, null, platform, cancellationToken).ConfigureAwait(false);
    }
}
