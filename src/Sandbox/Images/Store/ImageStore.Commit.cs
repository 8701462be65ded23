using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;
using Sandbox.Interop;

namespace Sandbox.Images.Store;

public sealed partial class ImageStore
{
    private static readonly JsonSerializerOptions DocumentJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private string ContainersDirectory => Path.Combine(Root, "containers");

    /// <summary>
    /// Makes a writable layer on disk for one sandbox (<see cref="SandboxSpec.WithImageWritableLayer(ImageWritableLayer)"/>):
    /// <c>containers/ID/{upper,work}</c>, locked until disposed. Commit it with
    /// <see cref="CommitAsync(ImageWritableLayer, ImageReference, ImageReference, ImageCommitOptions?, CancellationToken)"/>,
    /// or dispose it to throw the writes away; one left behind by a crash is removed by <see cref="CollectGarbage"/>.
    /// </summary>
    public ImageWritableLayer CreateWritableLayer(CancellationToken cancellationToken = default)
    {
        // Under the store lock (shared): a collection, which holds it exclusively, never sees a layer half made.
        using var storeLock = FileLock.Acquire(Path.Combine(Root, LockFile), exclusive: false, cancellationToken);
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        string containers = ContainersDirectory;
        if (!Directory.Exists(containers)) Directory.CreateDirectory(containers, Private);
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var ownLock = FileLock.Acquire(Path.Combine(containers, id + ".lock"), exclusive: true, cancellationToken);
        try
        {
            string dir = Path.Combine(containers, id);
            Directory.CreateDirectory(dir, Private);
            // The upper directory is the merged root's directory: 0755 like the tmpfs one; the workdir is overlayfs' alone.
            Directory.CreateDirectory(Path.Combine(dir, "upper"), Private | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            Directory.CreateDirectory(Path.Combine(dir, "work"), Private);
            return new ImageWritableLayer(containers, id, ownLock);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RemoveWritableLayerDirectory(containers, id);
            ownLock.Dispose();
            throw new ImageException($"a writable layer cannot be made under '{containers}': {e.Message}", null, null,
                "Check that the store's directory is writable by this user and has free space.", e);
        }
    }

    /// <summary>
    /// Commits <paramref name="layer"/>'s upper directory onto <paramref name="baseImage"/> as the new image
    /// <paramref name="newReference"/>: see <see cref="CommitAsync(string, ImageReference, ImageReference, ImageCommitOptions?, CancellationToken)"/>.
    /// With what the last run on the layer recorded in its <see cref="ImageWritableLayer.SetupDirectory"/>: /etc/hosts and
    /// /etc/resolv.conf are added if its program changed them (they live outside the upper directory), and in a store that
    /// kept no owners (rootless: <see cref="IdMapping.Unpacker"/>) what the program made is recorded with the ids it ran as,
    /// which are the ids the sandbox saw (<see cref="LayerCommitOptions.SandboxUser"/>; ids set in the options win), a changed
    /// file of the image with the owner its layer gave it. On such a store a run maps one id only, the host user to the
    /// sandbox user, so the owner on disk alone cannot tell the image's files from the program's: overlayfs' copy-up mark
    /// (the <c>overlay.origin</c> xattr) does, and a file of the image the program removed and made again counts as its own.
    /// After several runs on one layer, the last run's ids are the ones recorded.
    /// </summary>
    public Task<StoredImage> CommitAsync(ImageWritableLayer layer, ImageReference baseImage, ImageReference newReference, ImageCommitOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return CommitCoreAsync(layer.UpperDirectory, layer.SetupDirectory, baseImage, newReference, options, cancellationToken);
    }

    /// <summary>
    /// Makes the overlay upper directory <paramref name="upperDirectory"/> (what a sandbox on <paramref name="baseImage"/>
    /// wrote) a new layer, and stores <paramref name="baseImage"/> plus that layer as <paramref name="newReference"/>: the
    /// layer's tar and gzip blob (whiteouts and opaque directories as the OCI spec writes them, owners mapped back into
    /// the image's ids; see <see cref="UpperLayerWriter"/>; without a run's record a rootless store's files are recorded as 0:0), its blob kept at <c>blobs/sha256/HEX</c>, the layer unpacked
    /// into the store as an import would, a config with the diff id and a history entry added, and a manifest naming both.
    /// What the sandbox's setup put there (<see cref="ImageCommitOptions.ExcludedPaths"/>) is left out.
    /// The name is written last: a commit that fails leaves no image, and its leftovers are temporary files or a layer
    /// no image uses, both removed by <see cref="CollectGarbage"/>. An empty upper directory gives an empty (but valid) layer.
    /// </summary>
    public Task<StoredImage> CommitAsync(string upperDirectory, ImageReference baseImage, ImageReference newReference, ImageCommitOptions? options = null, CancellationToken cancellationToken = default) =>
        CommitCoreAsync(upperDirectory, null, baseImage, newReference, options, cancellationToken);

    private async Task<StoredImage> CommitCoreAsync(string upperDirectory, string? setupDirectory, ImageReference baseImage, ImageReference newReference, ImageCommitOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upperDirectory);
        ArgumentNullException.ThrowIfNull(baseImage);
        ArgumentNullException.ThrowIfNull(newReference);
        options ??= new ImageCommitOptions();
        using var storeLock = await Task.Run(() => FileLock.Acquire(Path.Combine(Root, LockFile), exclusive: false, cancellationToken), cancellationToken).ConfigureAwait(false);
        return await Task.Run(() => Commit(upperDirectory, setupDirectory, baseImage, newReference, options, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private StoredImage Commit(string upperDirectory, string? setupDirectory, ImageReference baseReference, ImageReference newReference, ImageCommitOptions options, CancellationToken cancellationToken)
    {
        var baseImage = FindImage(baseReference) ?? throw new ImageException("the base image of the commit is not in the store.", baseReference.ToString(), null,
            "Commit onto the image the sandbox ran on, which must still be in the store (import or pull it again).");
        var baseLayers = FindOrUnpackLayers(baseImage, cancellationToken, out _).ToList(); // a base pulled without unpacking is unpacked here
        var layerOptions = (options.Layer ?? LayerCommitOptions.For(Options.Layers).WithXattrNamespace(
            baseLayers.Count == 0 ? Options.Layers.XattrNamespace
            : baseLayers.Any(l => l.XattrNamespace == OverlayXattrNamespace.User) ? OverlayXattrNamespace.User : OverlayXattrNamespace.Trusted))
            .WithExcludedPaths(options.ExcludedPaths);
        if (setupDirectory is not null)
            layerOptions = WithRunRecord(layerOptions, setupDirectory);

        string temp = Path.Combine(TempDirectory, $"commit-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}");
        Directory.CreateDirectory(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            string blobPath = Path.Combine(temp, "blob");
            LayerCommitResult layer;
            using (var blob = new FileStream(blobPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                layer = UpperLayerWriter.Write(upperDirectory, blob, layerOptions, cancellationToken);
                blob.Flush(flushToDisk: true);
            }
            var descriptor = EnsureCommittedLayer(blobPath, layer, cancellationToken);

            var created = options.Created ?? DateTimeOffset.UtcNow;
            byte[] config = CommittedConfig(File.ReadAllBytes(Path.Combine(BlobsDirectory, baseImage.ConfigDigest.Encoded)), layer.DiffId, created, options);
            var configDigest = Digest.Sha256Of(config);
            var parsedConfig = ImageConfig.Parse(config);
            byte[] baseManifest = File.ReadAllBytes(Path.Combine(BlobsDirectory, baseImage.ManifestDigest.Encoded));
            byte[] manifest = CommittedManifest(baseManifest, configDigest, config.Length, descriptor);
            var manifestDigest = Digest.Sha256Of(manifest);
            WriteBlob(configDigest, config);
            WriteBlob(manifestDigest, manifest);
            var record = new StoreJson.ImageRecord(newReference, manifestDigest, configDigest, [.. baseImage.Layers, layer.DiffId], created);
            WriteAtomically(ImageRecordPath(newReference), StoreJson.WriteImage(record));
            return new StoredImage(newReference, manifestDigest, configDigest, parsedConfig, record.Layers, record.Imported);
        }
        catch (FormatException e)
        {
            throw new ImageException($"the base image's config or manifest cannot be extended: {e.Message}", baseReference.ToString(), null, "Import the base image again.", e);
        }
        finally
        {
            RemoveTemporary(temp);
        }
    }

    /// <summary>
    /// What the last run on a writable layer recorded in its setup directory (<see cref="RootFs.ImageSetupDirectory"/>): the
    /// runtime files its program changed are added to the layer, and the ids it ran as decide the owners where the store kept
    /// none (unless the options name ids themselves). Nothing when no run prepared the directory.
    /// </summary>
    private static LayerCommitOptions WithRunRecord(LayerCommitOptions layerOptions, string setupDirectory)
    {
        try
        {
            if (RootFs.ImageSetupDirectory.TryReadRecord(setupDirectory) is not { } record) return layerOptions;
            if (layerOptions.SandboxUser is null || layerOptions.SandboxHostUser is null)
                layerOptions = layerOptions.WithSandboxIds(record.User, record.HostUser);
            return layerOptions.WithAddedFiles(RootFs.ImageSetupDirectory.ChangedFiles(setupDirectory, record));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageException($"the writable layer's setup directory '{setupDirectory}' cannot be read: {e.Message}", null, null,
                "Commit a writable layer that still exists (ImageStore.CreateWritableLayer), before disposing it, and leave its directories alone meanwhile.", e);
        }
    }

    /// <summary>
    /// Unpacks the committed blob into the store as a layer, as an import does, and keeps the blob at
    /// <c>blobs/sha256/HEX</c>; returns the manifest's descriptor of the layer. When a layer with that diff id is
    /// there already (the same changes committed before, or imported), it stays, and so does the blob it names if
    /// that is kept; otherwise the layer's record is pointed at this blob, so garbage collection keeps it.
    /// </summary>
    private (Digest Digest, long Size, string MediaType) EnsureCommittedLayer(string blobPath, LayerCommitResult layer, CancellationToken cancellationToken)
    {
        string final = Path.Combine(LayersDirectory, layer.DiffId.Encoded);
        using var layerLock = FileLock.Acquire(Path.Combine(LocksDirectory, layer.DiffId.Encoded + ".lock"), exclusive: true, cancellationToken);
        if (FindLayer(layer.DiffId) is { } existing)
        {
            string existingBlob = Path.Combine(BlobsDirectory, existing.SourceDigest.Encoded);
            if (existing.SourceDigest != layer.Digest && File.Exists(existingBlob))
            {
                byte[] head = new byte[4];
                using (var file = File.OpenRead(existingBlob))
                    file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
                string mediaType = LayerBlob.DetectCompression(head) switch
                {
                    LayerCompression.Gzip => MediaTypes.OciLayerTarGzip,
                    LayerCompression.Zstd => MediaTypes.OciLayerTarZstd,
                    _ => MediaTypes.OciLayerTar,
                };
                return (existing.SourceDigest, new FileInfo(existingBlob).Length, mediaType);
            }
            KeepBlob(blobPath, layer.Digest);
            if (existing.SourceDigest != layer.Digest)
                WriteAtomically(Path.Combine(final, "layer.json"), StoreJson.WriteLayer(existing with { SourceDigest = layer.Digest, CompressedBytes = layer.CompressedBytes }));
            return (layer.Digest, layer.CompressedBytes, MediaTypes.OciLayerTarGzip);
        }
        string temp = Path.Combine(TempDirectory, $"{layer.DiffId.Encoded}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}");
        Directory.CreateDirectory(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            string tree = Path.Combine(temp, "diff");
            Directory.CreateDirectory(tree, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            LayerApplyResult result;
            using (var blob = File.OpenRead(blobPath))
                result = LayerApplier.Apply(blob, new LayerBlob(layer.Digest, layer.CompressedBytes, LayerCompression.Gzip, layer.DiffId), tree, Options.Layers, cancellationToken);
            var stored = new StoredLayer(layer.DiffId, Path.Combine(final, "diff"), result.Digest, result.CompressedBytes, result.Entries, result.FileBytes,
                result.Notes.Length + result.MoreNotes, Options.Layers.XattrNamespace);
            File.WriteAllBytes(Path.Combine(temp, "layer.json"), StoreJson.WriteLayer(stored));
            KeepBlob(blobPath, layer.Digest); // before the layer appears: a layer's record never names a missing blob
            Rename(temp, final, noReplace: true);
        }
        catch
        {
            RemoveTemporary(temp);
            throw;
        }
        return (layer.Digest, layer.CompressedBytes, MediaTypes.OciLayerTarGzip);
    }

    private void KeepBlob(string blobPath, Digest digest)
    {
        string final = Path.Combine(BlobsDirectory, digest.Encoded);
        if (!File.Exists(final)) Rename(blobPath, final, noReplace: false);
    }

    /// <summary>The base config with the new diff id appended to rootfs.diff_ids, a history entry, and the creation time; every other field as it was.</summary>
    internal static byte[] CommittedConfig(byte[] baseConfig, Digest diffId, DateTimeOffset created, ImageCommitOptions options)
    {
        var config = JsonNode.Parse(baseConfig) as JsonObject ?? throw new FormatException("the config is not a JSON object");
        var rootfs = config["rootfs"] as JsonObject ?? throw new FormatException("the config has no rootfs object");
        if (rootfs["diff_ids"] is not JsonArray diffIds) rootfs["diff_ids"] = diffIds = [];
        diffIds.Add(diffId.ToString());
        if (config["history"] is not JsonArray history) config["history"] = history = [];
        string time = created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var entry = new JsonObject { ["created"] = time, ["created_by"] = options.CreatedBy };
        if (options.Comment is { } comment) entry["comment"] = comment;
        history.Add(entry);
        config["created"] = time;
        return JsonSerializer.SerializeToUtf8Bytes(config, DocumentJson);
    }

    /// <summary>The base manifest naming the new config, with the new layer appended (its OCI media type, or the Docker one in a Docker manifest).</summary>
    internal static byte[] CommittedManifest(byte[] baseManifest, Digest configDigest, long configSize, (Digest Digest, long Size, string MediaType) layer)
    {
        var manifest = JsonNode.Parse(baseManifest) as JsonObject ?? throw new FormatException("the manifest is not a JSON object");
        var config = manifest["config"] as JsonObject ?? throw new FormatException("the manifest has no config descriptor");
        config["digest"] = configDigest.ToString();
        config["size"] = configSize;
        if (manifest["layers"] is not JsonArray layers) manifest["layers"] = layers = [];
        bool docker = manifest["mediaType"]?.GetValue<string>() == MediaTypes.DockerManifest;
        layers.Add(new JsonObject
        {
            ["mediaType"] = !docker ? layer.MediaType
                : layer.MediaType == MediaTypes.OciLayerTarGzip ? MediaTypes.DockerLayerTarGzip
                : layer.MediaType == MediaTypes.OciLayerTar ? MediaTypes.DockerLayerTar
                : layer.MediaType, // zstd has no Docker type: the OCI one, which current registries and runtimes accept
            ["digest"] = layer.Digest.ToString(),
            ["size"] = layer.Size,
        });
        return JsonSerializer.SerializeToUtf8Bytes(manifest, DocumentJson);
    }

    /// <summary>Removes <c>containers/ID</c> (never following a symlink, opening what overlayfs left closed) and its lock file.</summary>
    internal static void RemoveWritableLayerDirectory(string containersDirectory, string id)
    {
        try
        {
            using (var containers = ConfinedDirectory.Open(containersDirectory))
                containers.Remove(id);
            File.Delete(Path.Combine(containersDirectory, id + ".lock"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next garbage collection: its lock is released with the layer.
        }
    }

    /// <summary>Writable layers whose owner is gone (their lock is free): removed. Runs under the store lock held exclusively.</summary>
    private int CollectAbandonedWritableLayers(ref long freed)
    {
        if (!Directory.Exists(ContainersDirectory)) return 0;
        int removed = 0;
        using var containers = ConfinedDirectory.Open(ContainersDirectory);
        foreach (var name in containers.List("").Order(StringComparer.Ordinal))
        {
            string id = name.EndsWith(".lock", StringComparison.Ordinal) ? name[..^".lock".Length] : name;
            if (id != name && containers.TryStatus(id) is not null) continue; // the directory's turn decides
            using var held = FileLock.TryAcquire(Path.Combine(ContainersDirectory, id + ".lock"), exclusive: true);
            if (held is null) continue;
            if (containers.TryStatus(id) is not null)
            {
                freed += MeasureTree(containers, id);
                containers.Remove(id);
                removed++;
            }
            File.Delete(Path.Combine(ContainersDirectory, id + ".lock"));
        }
        return removed;
    }
}
