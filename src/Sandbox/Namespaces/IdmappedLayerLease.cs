using System.Collections.Immutable;
using Microsoft.Win32.SafeHandles;
using Sandbox.Interop;

namespace Sandbox.Namespaces;

/// <summary>
/// A hold on the idmapped mounts of one image's layers for one mapping (see <see cref="IdmappedLayers"/>), kept
/// while a sandbox that uses them runs; disposing it lets the last holder close them.
/// </summary>
internal sealed class IdmappedLayerLease : IDisposable
{
    private readonly IdmappedLayers _owner;
    private readonly (string UidMap, string GidMap) _key;
    private readonly ImmutableArray<string> _directories;
    private readonly ImmutableArray<SafeFileHandle> _trees;
    private readonly ISyscalls _syscalls;
    private int _disposed;

    internal IdmappedLayerLease(IdmappedLayers owner, (string UidMap, string GidMap) key, ImmutableArray<string> directories,
        ImmutableArray<SafeFileHandle> trees, ISyscalls syscalls)
    {
        _owner = owner;
        _key = key;
        _directories = directories;
        _trees = trees;
        _syscalls = syscalls;
    }

    /// <summary>
    /// A copy of each layer's idmapped mount, in lowerdir order, for one launch: the launcher's child moves them into
    /// its mount namespace. The caller closes them once the launch is over (close-on-exec: the payload never has them).
    /// </summary>
    public ImmutableArray<SafeFileHandle> CloneForLaunch()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var clones = ImmutableArray.CreateBuilder<SafeFileHandle>(_trees.Length);
        try
        {
            foreach (var tree in _trees)
                clones.Add(_syscalls.CloneTree(tree));
            return clones.MoveToImmutable();
        }
        catch
        {
            foreach (var clone in clones) clone.Dispose();
            throw;
        }
    }

    /// <summary>Releases the hold (once).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _owner.Release(_key, _directories);
    }
}
