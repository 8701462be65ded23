using Sandbox.Images;
using Sandbox.Images.Store;

namespace Sandbox.Cli;

/// <summary>
/// <c>--commit NEWREF</c> of <c>sandbox run --image REF</c>: the sandbox writes to a writable layer on disk in the store
/// (its root writable), and when the command exits 0 that layer becomes the image NEWREF (REF plus one layer);
/// otherwise the writes are discarded. The layer's directory is removed either way.
/// </summary>
internal sealed class CommitOption : IDisposable
{
    private readonly ImageStore _store;
    private readonly ImageReference _baseImage;
    private readonly ImageReference _newReference;
    private readonly ImageWritableLayer _layer;

    private CommitOption(ImageStore store, ImageReference baseImage, ImageReference newReference, ImageWritableLayer layer)
    {
        _store = store;
        _baseImage = baseImage;
        _newReference = newReference;
        _layer = layer;
    }

    /// <summary>Makes the writable layer for a run on <paramref name="lease"/>'s image, or says why <paramref name="newReference"/> is unusable.</summary>
    public static (CommitOption? Commit, string? Problem) Prepare(string newReference, string? storeOption, ImageLease lease)
    {
        if (!ImageReference.TryParse(newReference, out var parsed, out string problem))
            return (null, $"--commit '{newReference}': {problem}");
        var store = ImageStore.Open(new ImageStoreOptions { Root = ImageOption.StoreRoot(storeOption) });
        return (new CommitOption(store, lease.Image.Reference, parsed, store.CreateWritableLayer()), null);
    }

    private ImageCommitOptions _options = new ImageCommitOptions().WithCreatedBy("sandbox run --commit");

    /// <summary>
    /// The spec writing to the layer, on a writable root (there is nothing to commit otherwise); its mount targets are
    /// left out of the commit. As root on root's store, without a user namespace: a sandbox in one cannot own the
    /// layer's host directory.
    /// </summary>
    public SandboxSpec Apply(SandboxSpec spec)
    {
        _options = _options.WithExcludedMountTargets(spec);
        if (Environment.IsPrivilegedProcess && spec.Image is { UserXattr: false })
            spec = spec.WithoutNamespaces(SandboxNamespaces.User);
        return spec.WithImageWritableLayer(_layer).WithWritableRoot();
    }

    /// <summary>Commits after a command that exited 0 (the new image's digest goes to stderr); says the writes were discarded otherwise. False if the commit failed.</summary>
    public async Task<bool> FinishAsync(SandboxResult result, CancellationToken cancellationToken)
    {
        if (result.Outcome != SandboxOutcome.Ok || result.ExitCode != 0)
        {
            Console.Error.WriteLine($"sandbox: the command did not succeed ({result.Outcome}, exit {result.ShellExitCode}): nothing committed, its writes were discarded.");
            return true;
        }
        try
        {
            var image = await _store.CommitAsync(_layer, _baseImage, _newReference, _options, cancellationToken);
            Console.Error.WriteLine($"sandbox: committed {image.Reference} {image.ManifestDigest}");
            return true;
        }
        catch (ImageException e)
        {
            Console.Error.WriteLine($"sandbox: the commit failed, nothing was stored: {e.Message}");
            return false;
        }
    }

    /// <summary>Removes the layer's directory.</summary>
    public void Dispose() => _layer.Dispose();
}
