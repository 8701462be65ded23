using Sandbox.Interop;

using Sandbox.Images;

namespace Sandbox.Images.Store;

/// <summary>
/// A sandbox's writable layer on disk, in the store: <c>containers/ID/upper</c> (overlayfs' upperdir, which
/// <see cref="ImageStore.CommitAsync(ImageWritableLayer, ImageReference, ImageReference, ImageCommitOptions?, CancellationToken)"/>
/// turns into a layer), <c>containers/ID/work</c> (its workdir) and <c>containers/ID/setup</c> (the runtime's files, <see cref="SetupDirectory"/>). Held by an exclusive lock on <c>containers/ID.lock</c>
/// while not disposed, so garbage collection removes only layers whose owner went away; disposing removes both directories.
/// </summary>
public sealed class ImageWritableLayer : IDisposable
{
    private readonly FileLock _lock;
    private readonly string _containersDirectory;
    private bool _disposed;

    internal ImageWritableLayer(string containersDirectory, string id, FileLock ownLock)
    {
        _containersDirectory = containersDirectory;
        Id = id;
        _lock = ownLock;
    }

    /// <summary>Its name under <c>containers/</c>.</summary>
    public string Id { get; }

    /// <summary>The directory holding <see cref="UpperDirectory"/> and <see cref="WorkDirectory"/>.</summary>
    public string Directory => Path.Combine(_containersDirectory, Id);

    /// <summary>Where the sandbox's writes land (overlayfs' upperdir), with host owners.</summary>
    public string UpperDirectory => Path.Combine(Directory, "upper");

    /// <summary>overlayfs' workdir.</summary>
    public string WorkDirectory => Path.Combine(Directory, "work");

    /// <summary>
    /// The runtime's own files for a run on the layer (<see cref="SandboxSpec.ImageSetupDirectory"/>): the mount points it
    /// lays over the image, the /etc/hosts and /etc/resolv.conf it binds onto them, and the record of both and of the
    /// run's ids, which a commit reads. Made by the run.
    /// </summary>
    public string SetupDirectory => Path.Combine(Directory, "setup");

    /// <summary>Removes the directories (whatever overlayfs left in them too) and releases the lock.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            ImageStore.RemoveWritableLayerDirectory(_containersDirectory, Id);
        }
        finally
        {
            _lock.Dispose();
        }
    }
}
