using Sandbox.Images;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;
using Sandbox.Images.Store;

namespace Sandbox.Benchmarks.Images;

/// <summary>The images the image benchmarks use, and stores holding them.</summary>
internal static class BenchImages
{
    /// <summary>The payload every overlay-cost contender runs: the static busybox's <c>true</c> applet, the same binary on the host's root and the image's.</summary>
    public static readonly string[] Payload = ["/bin/busybox", "true"];

    /// <summary>busybox alone: one layer.</summary>
    public static IReadOnlyList<BenchLayer> OneLayer() => [BenchLayer.Busybox()];

    /// <summary>busybox under four more small layers (text files, a random file, a whiteout and an opaque directory): five layers, ~2 MB of gzip.</summary>
    public static IReadOnlyList<BenchLayer> FiveLayers() =>
    [
        BenchLayer.Busybox(),
        BenchLayer.TextFiles("usr/share/a", 200, seed: 1),
        BenchLayer.TextFiles("usr/lib/b", 200, seed: 2),
        BenchLayer.RandomFile("opt/blob.bin", 1 << 20, seed: 3),
        BenchLayer.Changes(removed: "bin/cat", opaque: "home"),
    ];

    /// <summary>
    /// What pull-vs-skopeo pulls, shaped like an application image: busybox, a documentation-like layer of many small
    /// text files, a library-like layer, an incompressible 8 MiB blob, and a small top layer with whiteouts.
    /// </summary>
    public static IReadOnlyList<BenchLayer> ApplicationImage() =>
    [
        BenchLayer.Busybox(),
        BenchLayer.TextFiles("usr/share/doc", 2500, seed: 11),
        BenchLayer.TextFiles("usr/lib/app", 1200, seed: 12),
        BenchLayer.RandomFile("opt/data/blob.bin", 8 << 20, seed: 13),
        BenchLayer.Changes(removed: "bin/cat", opaque: "home"),
    ];

    /// <summary>Opens a store at <paramref name="root"/> unpacking with <paramref name="layers"/> and imports <paramref name="layout"/> as <paramref name="name"/>.</summary>
    public static async Task<ImageStore> ImportAsync(string root, LayerApplyOptions layers, BenchImageLayout layout, ImageReference name)
    {
        var store = ImageStore.Open(new ImageStoreOptions { Root = root, Layers = layers });
        using var source = ImageSource.Open(layout.Directory);
        await store.ImportAsync(source, name, layout.Tag).ConfigureAwait(false);
        return store;
    }
}
