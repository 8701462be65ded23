using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;
using Sandbox.Interop;
using static Sandbox.Interop.FileSystemCalls;

namespace Sandbox.Images.Store;

/// <summary>
/// The content-addressed image store: layers unpacked once under their diff id and shared by every image,
/// manifests and configs under their digest, images by name. Safe for concurrent imports and runs across
/// processes: imports and leases hold the store lock shared and each layer is unpacked under its own
/// exclusive lock, into a temporary directory that is renamed into place only when complete and verified;
/// garbage collection holds the store lock exclusively. A pull with <see cref="LayerUnpacking.OnFirstUse"/> stores only the
/// verified compressed blobs; such a layer is unpacked, the same way, by the first <see cref="Lease"/>, commit or
/// <see cref="UnpackAsync"/>.
/// </summary>
/// <remarks>
/// Layout under <see cref="Root"/>: <c>store.lock</c>; <c>layers/sha256/HEX/diff</c> (the tree) and
/// <c>layer.json</c>; <c>blobs/sha256/HEX</c> (manifests, configs and each layer's compressed blob exactly as
/// pulled, imported or committed, so a push sends the same digests); <c>images/HEX.json</c> (HEX = sha256 of the
/// reference); <c>locks/HEX.lock</c>; <c>tmp/</c>; <c>containers/ID/{upper,work}</c> and <c>containers/ID.lock</c>
/// (writable layers of running sandboxes, see ImageStore.Commit.cs).
/// </remarks>
public sealed partial class ImageStore
{
    private const string LockFile = "store.lock";

    private readonly StoreRecordCache _records = new();

    private ImageStore(ImageStoreOptions options)
    {
        Options = options;
        Root = Path.GetFullPath(options.Root);
    }

    /// <summary>The options the store was opened with.</summary>
    public ImageStoreOptions Options { get; }

    /// <summary>The store's directory.</summary>
    public string Root { get; }

    private string LayersDirectory => Path.Combine(Root, "layers", "sha256");
    private string BlobsDirectory => Path.Combine(Root, "blobs", "sha256");
    private string ImagesDirectory => Path.Combine(Root, "images");
    private string LocksDirectory => Path.Combine(Root, "locks");
    private string TempDirectory => Path.Combine(Root, "tmp");

    /// <summary>Opens the store, creating its directories (mode 0700) if needed.</summary>
    public static ImageStore Open(ImageStoreOptions? options = null)
    {
        var store = new ImageStore(options ?? new ImageStoreOptions());
        try
        {
            foreach (var dir in new[] { store.Root, store.LayersDirectory, store.BlobsDirectory, store.ImagesDirectory, store.LocksDirectory, store.TempDirectory })
                if (!Directory.Exists(dir))
                    Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageException($"the image store at '{store.Root}' cannot be created: {e.Message}", null, null,
                "Choose a writable ImageStoreOptions.Root (the default is /var/lib/sandbox for root, ~/.local/share/sandbox otherwise).", e);
        }
        return store;
    }

    /// <summary>The directory a layer is (or would be) unpacked in: an overlay lowerdir.</summary>
    public string LayerDirectory(Digest diffId) => Path.Combine(LayersDirectory, diffId.Encoded, "diff");

    /// <summary>
    /// Imports the image <paramref name="sourceName"/> (null: the only one) from <paramref name="source"/> under
    /// the name <paramref name="reference"/>: every layer not yet in the store is unpacked and verified, then the
    /// manifest and config are stored, then the name. Importing what is there already costs only the checks.
    /// </summary>
    public Task<StoredImage> ImportAsync(ImageSource source, ImageReference reference, string? sourceName = null, CancellationToken cancellationToken = default) =>
        ImportAsync(source, reference, sourceName, platform: null, cancellationToken);

    /// <summary>
    /// Imports as <see cref="ImportAsync(ImageSource, ImageReference, string?, CancellationToken)"/> does, picking
    /// <paramref name="platform"/> (null: this host) from a multi-platform image.
    /// </summary>
    public async Task<StoredImage> ImportAsync(ImageSource source, ImageReference reference, string? sourceName, Platform? platform, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(reference);
        using var storeLock = await Task.Run(() => FileLock.Acquire(Path.Combine(Root, LockFile), exclusive: false, cancellationToken), cancellationToken).ConfigureAwait(false);
        var image = source.Resolve(sourceName, platform);
        var layers = image.Manifest.Layers.Select((descriptor, i) => (descriptor, diffId: image.Config.DiffIds[i])).ToList();
        RequireUnpackableLayers(source, image);

        await Parallel.ForEachAsync(
            layers.DistinctBy(l => l.diffId),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount), CancellationToken = cancellationToken },
            (layer, ct) =>
            {
                EnsureLayer(source, layer.descriptor, layer.diffId, ct);
                return ValueTask.CompletedTask;
            }).ConfigureAwait(false);
        return StoreImage(image, reference);
    }

    /// <summary>Every layer's media type is one this version unpacks (checked before anything is downloaded or stored).</summary>
    private static void RequireUnpackableLayers(ImageSource source, SourceImage image)
    {
        foreach (var descriptor in image.Manifest.Layers)
            if (MediaTypes.LayerCompressionOf(descriptor.MediaType) is null)
                throw new ImageException($"the layer's media type '{descriptor.MediaType}' is not one this version unpacks (tar, tar+gzip, tar+zstd).",
                    source.Description, descriptor.Digest, "Convert the image (e.g. skopeo copy) to OCI or Docker layers.");
    }

    /// <summary>Stores the manifest and the config, then the name: the last write, once every layer (or its blob) is in the store.</summary>
    private StoredImage StoreImage(SourceImage image, ImageReference reference)
    {
        WriteBlob(image.ManifestDigest, image.ManifestBytes);
        WriteBlob(image.Manifest.Config.Digest, image.ConfigBytes);
        var record = new StoreJson.ImageRecord(reference, image.ManifestDigest, image.Manifest.Config.Digest, image.Config.DiffIds, DateTimeOffset.UtcNow);
        WriteAtomically(ImageRecordPath(reference), StoreJson.WriteImage(record));
        return new StoredImage(reference, record.Manifest, record.Config, image.Config, record.Layers, record.Imported);
    }

    /// <summary>A new, unique path under <c>tmp/</c> starting with <paramref name="prefix"/>.</summary>
    private string TemporaryPath(string prefix) => Path.Combine(TempDirectory, $"{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}");

    /// <summary>The layer, if it is in the store.</summary>
    public StoredLayer? FindLayer(Digest diffId)
    {
        string dir = Path.Combine(LayersDirectory, diffId.Encoded);
        return _records.Read(Path.Combine(dir, "layer.json"), bytes => StoreJson.ReadLayer(bytes, Path.Combine(dir, "diff")));
    }

    /// <summary>Every layer in the store.</summary>
    public IReadOnlyList<StoredLayer> ListLayers() =>
        [.. Directory.EnumerateDirectories(LayersDirectory)
            .Select(d => Digest.TryParse("sha256:" + Path.GetFileName(d), out var digest, out _) ? FindLayer(digest) : null)
            .OfType<StoredLayer>()
            .OrderBy(l => l.DiffId.Encoded, StringComparer.Ordinal)];

    /// <summary>Every image in the store, by name.</summary>
    public IReadOnlyList<StoredImage> ListImages() =>
        [.. Directory.EnumerateFiles(ImagesDirectory, "*.json")
            .Select(TryReadImage)
            .OfType<StoredImage>()
            .OrderBy(i => i.Reference.ToString(), StringComparer.Ordinal)];

    /// <summary>The image stored under <paramref name="reference"/>, or null.</summary>
    public StoredImage? FindImage(ImageReference reference) => TryReadImage(ImageRecordPath(reference));

    /// <summary>Removes the name <paramref name="reference"/>; its layers stay until <see cref="CollectGarbage"/>. False if there was no such image.</summary>
    public bool RemoveImage(ImageReference reference)
    {
        string path = ImageRecordPath(reference);
        if (!File.Exists(path)) return false;
        File.Delete(path);
        return true;
    }

    /// <summary>
    /// Holds the image for a run: its layers cannot be collected until the lease is disposed. A layer stored as its
    /// compressed blob only (pulled with <see cref="LayerUnpacking.OnFirstUse"/>) is unpacked first, as an import
    /// unpacks (see <see cref="UnpackAsync"/>); <see cref="ImageLease.Unpacked"/> says which. When every layer is unpacked
    /// already this costs one statx per record. Throws <see cref="ImageException"/> if the image or one of its layers
    /// is not in the store, or a stored blob is damaged.
    /// </summary>
    public ImageLease Lease(ImageReference reference, CancellationToken cancellationToken = default)
    {
        var storeLock = FileLock.Acquire(Path.Combine(Root, LockFile), exclusive: false, cancellationToken);
        try
        {
            var image = FindImage(reference) ?? throw new ImageException("the image is not in the store.", reference.ToString(), null, "Import or pull it first.");
            var layers = FindOrUnpackLayers(image, cancellationToken, out var unpacked);
            return new ImageLease(image, layers, storeLock) { Unpacked = unpacked };
        }
        catch
        {
            storeLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Removes layers, manifests, configs and compressed layer blobs no image uses, and leftovers of interrupted imports. Waits until
    /// no import or lease holds the store (in any process).
    /// </summary>
    public GarbageCollectionResult CollectGarbage(CancellationToken cancellationToken = default)
    {
        using var storeLock = FileLock.Acquire(Path.Combine(Root, LockFile), exclusive: true, cancellationToken);
        var images = ListImages();
        var usedLayers = images.SelectMany(i => i.Layers).Select(d => d.Encoded).ToHashSet(StringComparer.Ordinal);
        var usedBlobs = images.SelectMany(i => new[] { i.ManifestDigest.Encoded, i.ConfigDigest.Encoded }).ToHashSet(StringComparer.Ordinal);
        // Compressed layer blobs (kept for push) live as long as a manifest or a used layer names them.
        foreach (var image in images)
            if (ReadStoredManifest(image) is { } manifest)
                usedBlobs.UnionWith(manifest.Layers.Select(l => l.Digest.Encoded));
        foreach (var layer in usedLayers)
            if (Digest.TryParse("sha256:" + layer, out var diffId, out _) && FindLayer(diffId) is { } stored)
                usedBlobs.Add(stored.SourceDigest.Encoded);
        var removedLayers = ImmutableArray.CreateBuilder<Digest>();
        var removedBlobs = ImmutableArray.CreateBuilder<Digest>();
        long freed = 0;

        using (var layers = ConfinedDirectory.Open(LayersDirectory))
        {
            foreach (var name in layers.List(""))
            {
                if (usedLayers.Contains(name)) continue;
                freed += MeasureTree(layers, name);
                layers.Remove(name);
                if (Digest.TryParse("sha256:" + name, out var digest, out _)) removedLayers.Add(digest);
                File.Delete(Path.Combine(LocksDirectory, name + ".lock"));
            }
        }
        foreach (var blob in Directory.EnumerateFiles(BlobsDirectory))
        {
            string name = Path.GetFileName(blob);
            if (usedBlobs.Contains(name)) continue;
            freed += new FileInfo(blob).Length;
            File.Delete(blob);
            if (Digest.TryParse("sha256:" + name, out var digest, out _)) removedBlobs.Add(digest);
        }
        int temporaries = 0;
        using (var temp = ConfinedDirectory.Open(TempDirectory))
        {
            foreach (var name in temp.List(""))
            {
                freed += MeasureTree(temp, name);
                temp.Remove(name);
                temporaries++;
            }
        }
        int writableLayers = CollectAbandonedWritableLayers(ref freed);
        return new GarbageCollectionResult(removedLayers.ToImmutable(), removedBlobs.ToImmutable(), temporaries, freed) { RemovedWritableLayers = writableLayers };
    }

    /// <summary>
    /// What the store takes on disk: per image, shared and unique (each layer's tree and its compressed blob, or the
    /// blob alone for a layer not yet unpacked); unreferenced layers; the other blobs (manifests, configs).
    /// </summary>
    public StoreDiskUsage GetDiskUsage()
    {
        var images = ListImages();
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        var layerBlobs = new HashSet<string>(StringComparer.Ordinal);
        using (var layers = ConfinedDirectory.Open(LayersDirectory))
            foreach (var name in layers.List(""))
            {
                sizes[name] = MeasureTree(layers, name);
                if (Digest.TryParse("sha256:" + name, out var diffId, out _) && FindLayer(diffId) is { } stored
                    && new FileInfo(BlobPath(stored.SourceDigest)) is { Exists: true } blob && layerBlobs.Add(stored.SourceDigest.Encoded))
                    sizes[name] += blob.Length;
            }
        // Layers kept only as their compressed blob (pulled without unpacking, not yet run): the blob is the layer's size.
        int packed = 0;
        foreach (var image in images)
        {
            if (image.Layers.All(l => sizes.ContainsKey(l.Encoded))) continue;
            if (ReadStoredManifest(image) is not { } manifest || manifest.Layers.Length != image.Layers.Length) continue;
            for (int i = 0; i < image.Layers.Length; i++)
                if (!sizes.ContainsKey(image.Layers[i].Encoded) && new FileInfo(BlobPath(manifest.Layers[i].Digest)) is { Exists: true } blob
                    && layerBlobs.Add(manifest.Layers[i].Digest.Encoded))
                {
                    sizes[image.Layers[i].Encoded] = blob.Length;
                    packed++;
                }
        }
        var users = images.SelectMany(i => i.Layers.Distinct().Select(l => l.Encoded)).GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var perImage = images.Select(i =>
        {
            var own = i.Layers.Select(l => l.Encoded).Distinct().ToList();
            return new ImageDiskUsage(i.Reference,
                own.Sum(l => sizes.GetValueOrDefault(l)),
                own.Where(l => users[l] == 1).Sum(l => sizes.GetValueOrDefault(l)));
        }).ToImmutableArray();
        long blobs = Directory.EnumerateFiles(BlobsDirectory).Where(f => !layerBlobs.Contains(Path.GetFileName(f))).Sum(f => new FileInfo(f).Length);
        return new StoreDiskUsage(Root, perImage, sizes.Count, sizes.Values.Sum(),
            sizes.Where(s => !users.ContainsKey(s.Key)).Sum(s => s.Value), blobs) { PackedLayerCount = packed };
    }

    private void EnsureLayer(ImageSource source, Descriptor descriptor, Digest diffId, CancellationToken cancellationToken)
    {
        string final = Path.Combine(LayersDirectory, diffId.Encoded);
        if (Directory.Exists(final) && File.Exists(BlobPath(descriptor.Digest))) return;
        using var layerLock = FileLock.Acquire(Path.Combine(LocksDirectory, diffId.Encoded + ".lock"), exclusive: true, cancellationToken);
        if (Directory.Exists(final))
        {
            // Unpacked already (by another process while we waited, or from another compression of the same tar, or
            // before the store kept blobs): only the compressed blob this manifest names may be missing.
            if (!File.Exists(BlobPath(descriptor.Digest))) KeepBlob(source, descriptor, cancellationToken);
            return;
        }

        string temp = Path.Combine(TempDirectory, $"{diffId.Encoded}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}");
        Directory.CreateDirectory(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            string tree = Path.Combine(temp, "diff");
            Directory.CreateDirectory(tree, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            var compression = MediaTypes.LayerCompressionOf(descriptor.MediaType)!.Value;
            string blobCopy = Path.Combine(temp, "blob");
            LayerApplyResult result;
            // The compressed bytes are copied aside as the applier reads them (it reads the blob to its end and
            // verifies its digest and size), so the blob is kept for push without a second read.
            using (var blob = new BlobCopyingStream(source.OpenBlob(descriptor), blobCopy))
            {
                result = LayerApplier.Apply(blob, new LayerBlob(descriptor.Digest, descriptor.Size, compression, diffId), tree, Options.Layers, cancellationToken);
                blob.Complete();
            }
            var stored = new StoredLayer(diffId, Path.Combine(final, "diff"), result.Digest, result.CompressedBytes, result.Entries, result.FileBytes,
                result.Notes.Length + result.MoreNotes, Options.Layers.XattrNamespace);
            File.WriteAllBytes(Path.Combine(temp, "layer.json"), StoreJson.WriteLayer(stored));
            Rename(blobCopy, BlobPath(descriptor.Digest), noReplace: false); // first: a visible layer has its blob
            Rename(temp, final, noReplace: true);
        }
        catch
        {
            RemoveTemporary(temp);
            throw;
        }
    }

    private void RemoveTemporary(string temp)
    {
        try
        {
            using var dir = ConfinedDirectory.Open(TempDirectory);
            dir.Remove(Path.GetFileName(temp));
        }
        catch (IOException)
        {
            // Left for the next garbage collection, which empties tmp/.
        }
    }

    private void WriteBlob(Digest digest, byte[] bytes)
    {
        string path = BlobPath(digest);
        if (!File.Exists(path)) WriteAtomically(path, bytes);
    }

    /// <summary>Writes a temporary file beside the target and renames it over: readers see the old or the new file, whole.</summary>
    private void WriteAtomically(string path, byte[] bytes)
    {
        string temp = Path.Combine(TempDirectory, $"{Path.GetFileName(path)}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }
            Rename(temp, path, noReplace: false);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static unsafe void Rename(string from, string to, bool noReplace)
    {
        int r;
        fixed (byte* f = LinuxSyscalls.NulTerminated(from))
        fixed (byte* t = LinuxSyscalls.NulTerminated(to))
            r = Renameat2(AtFdCwd, f, AtFdCwd, t, noReplace ? RenameNoReplace : 0);
        if (r != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new ImageException($"'{from}' could not be renamed to '{to}': {ErrnoNames.Of(errno)}.", null, null,
                "Check that the store's directories are writable and on one file system.");
        }
    }

    private string ImageRecordPath(ImageReference reference) =>
        Path.Combine(ImagesDirectory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(reference.ToString()))) + ".json");

    private StoredImage? TryReadImage(string path)
    {
        var record = _records.Read(path, bytes =>
        {
            try
            {
                return StoreJson.ReadImage(bytes);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new ImageException($"the store's record '{path}' is unreadable: {e.Message}", null, null,
                    "Delete the record (the image's name is lost; its layers are collected by the next garbage collection) and import the image again.", e);
            }
        });
        if (record is null) return null;
        var config = _records.Read(Path.Combine(BlobsDirectory, record.Config.Encoded), bytes => ImageConfig.Parse(bytes));
        if (config is null) return null;
        return new StoredImage(record.Reference, record.Manifest, record.Config, config, record.Layers, record.Imported);
    }

    /// <summary>Bytes allocated by a tree (st_blocks), each inode counted once, symlinks never followed.</summary>
    private static long MeasureTree(ConfinedDirectory dir, string relative)
    {
        var seen = new HashSet<ulong>();
        long total = 0;
        var pending = new Stack<string>();
        pending.Push(relative);
        while (pending.Count > 0)
        {
            string path = pending.Pop();
            if (dir.TryStatus(path) is not { } status) continue;
            if (status.LinkCount <= 1 || seen.Add(status.Inode)) total += (long)status.Blocks * 512;
            if (status.IsDirectory)
                foreach (var child in dir.List(path))
                    pending.Push(path + "/" + child);
        }
        return total;
    }
}
