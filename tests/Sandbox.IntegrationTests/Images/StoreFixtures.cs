using Sandbox.Images;
using Sandbox.Images.Oci;
using Sandbox.Images.Store;
using Sandbox.IntegrationTests.Support;
using Sandbox.Interop;

namespace Sandbox.IntegrationTests.Images;

/// <summary>Helpers the image integration tests share: a store in a fresh directory, importing the busybox image, looking at files.</summary>
internal static class StoreFixtures
{
    public static readonly ImageReference Busybox = ImageReference.Parse("test/busybox:" + BusyboxLayout.Tag);

    public static ImageStore NewStore(TempDirectory directory) =>
        ImageStore.Open(new ImageStoreOptions { Root = directory.Combine("store") });

    public static async Task<StoredImage> ImportBusyboxAsync(ImageStore store, string? path = null, ImageReference? name = null)
    {
        using var source = ImageSource.Open(path ?? BusyboxLayout.Layout);
        return await store.ImportAsync(source, name ?? Busybox, source is DockerArchiveSource ? null : BusyboxLayout.Tag);
    }

    public static FileNodeStatus? Status(string path)
    {
        using var dir = ConfinedDirectory.Open(Path.GetDirectoryName(path)!);
        return dir.TryStatus(Path.GetFileName(path));
    }

    public static string? Xattr(string path, string name) => ExtendedAttributes.TryGetText(path, name);
}
