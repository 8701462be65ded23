using System.Collections.Immutable;
using Microsoft.Win32.SafeHandles;
using Sandbox.Interop;

namespace Sandbox.Namespaces;

/// <summary>
/// Root's image layers seen through a sandbox's id maps: per mapping (uid_map and gid_map texts), a user namespace
/// with those maps and, per layer directory, a detached idmapped mount of it (open_tree + mount_setattr
/// MOUNT_ATTR_IDMAP). A launch takes a copy of each (<see cref="IdmappedLayerLease.CloneForLaunch"/>), which the
/// launcher's child mounts over the layer's own path in its mount namespace, so the overlay it makes inside the
/// sandbox's user namespace shows on-disk 0:0 as 0:0 there (when the maps put inside 0 on the host's id they give it).
/// </summary>
/// <remarks>
/// The kernel refuses a host-made detached mount as a lower layer of an overlay mounted in a user namespace (its
/// anonymous mount namespace belongs to the host's user namespace), hence the move into the child's namespace first;
/// and a moved mount is gone from its anonymous namespace, hence one copy per launch. Entries are counted by the
/// leases that hold them (one per running sandbox): sandboxes of one mapping that overlap share the namespace and
/// the mounts, and the last lease released closes them, so nothing stays open after every sandbox is disposed.
/// </remarks>
internal sealed class IdmappedLayers(ISyscalls syscalls)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string UidMap, string GidMap), Mapping> _mappings = [];

    /// <summary>How many mappings have a user namespace open now (tests).</summary>
    public int OpenMappings
    {
        get
        {
            lock (_gate) return _mappings.Count;
        }
    }

    /// <summary>
    /// Holds idmapped mounts of <paramref name="lowerDirectories"/> (in order; a directory named twice is mounted once)
    /// for the maps given, making what is missing.
    /// </summary>
    /// <exception cref="SandboxException">The user namespace or a mount could not be made; nothing stays held.</exception>
    public IdmappedLayerLease Acquire(string uidMap, string gidMap, IReadOnlyList<string> lowerDirectories)
    {
        var key = (uidMap, gidMap);
        lock (_gate)
        {
            bool created = !_mappings.TryGetValue(key, out var mapping);
            mapping ??= new Mapping(syscalls.CreateUserNamespace(uidMap, gidMap));
            var made = new List<string>();
            try
            {
                var trees = ImmutableArray.CreateBuilder<SafeFileHandle>(lowerDirectories.Count);
                foreach (var dir in lowerDirectories)
                {
                    if (!mapping.Trees.TryGetValue(dir, out var tree))
                    {
                        tree = syscalls.OpenIdmappedTree(dir, mapping.Namespace);
                        mapping.Trees[dir] = tree;
                        made.Add(dir);
                    }
                    trees.Add(tree);
                }
                mapping.Leases++;
                if (created) _mappings[key] = mapping;
                return new IdmappedLayerLease(this, key, trees.MoveToImmutable(), syscalls);
            }
            catch
            {
                foreach (var dir in made)
                {
                    mapping.Trees[dir].Dispose();
                    mapping.Trees.Remove(dir);
                }
                if (created) mapping.Close();
                throw;
            }
        }
    }

    /// <summary>One lease fewer on the mapping; the last closes its mounts and its user namespace.</summary>
    internal void Release((string UidMap, string GidMap) key)
    {
        lock (_gate)
        {
            if (!_mappings.TryGetValue(key, out var mapping) || --mapping.Leases > 0) return;
            _mappings.Remove(key);
            mapping.Close();
        }
    }

    private sealed class Mapping(SafeFileHandle userNamespace)
    {
        public SafeFileHandle Namespace { get; } = userNamespace;

        public Dictionary<string, SafeFileHandle> Trees { get; } = new(StringComparer.Ordinal);

        public int Leases { get; set; }

        public void Close()
        {
            foreach (var tree in Trees.Values) tree.Dispose();
            Trees.Clear();
            Namespace.Dispose();
        }
    }
}
