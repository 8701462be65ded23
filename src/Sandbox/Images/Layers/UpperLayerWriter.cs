using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Sandbox.Images.Oci;
using Sandbox.Interop;
using static Sandbox.Interop.FileSystemCalls;

namespace Sandbox.Images.Layers;

/// <summary>
/// Writes an overlay upper directory as an OCI layer (a gzip-compressed PAX tar), the inverse of unpacking one in
/// overlay format: a whiteout (a 0/0 character device, or a file with the overlay.whiteout xattr) becomes
/// <c>.wh.NAME</c>, an opaque directory (overlay.opaque=y in <see cref="LayerCommitOptions.XattrNamespace"/>) gets a
/// <c>.wh..wh..opq</c> entry after its own, overlayfs' other xattrs (and the store's <see cref="RecordedOwner"/>) are left out and the rest kept,
/// <see cref="LayerCommitOptions.ExcludedPaths"/> are skipped, <see cref="LayerCommitOptions.AddedFiles"/> added, owners are mapped
/// back into the image's ids (<see cref="TryCommittedOwner"/>), a file met again under another name is a hard link. Entries come in one order for one
/// tree (names sorted ordinally, each directory before what it holds), so the same tree gives the same digests.
/// The diff id and the blob digest are computed as the bytes go by.
/// </summary>
public static class UpperLayerWriter
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Writes the layer for <paramref name="upperDirectory"/> to <paramref name="output"/> (left open).</summary>
    public static LayerCommitResult Write(string upperDirectory, Stream output, LayerCommitOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(upperDirectory);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        ConfinedDirectory dir;
        try
        {
            dir = ConfinedDirectory.Open(upperDirectory);
        }
        catch (FileSystemCallException e)
        {
            throw new ImageException($"the upper directory '{upperDirectory}' cannot be opened: {ErrnoNames.Of(e.Errno)}.", null, null,
                "Commit the upper directory of a writable layer that still exists (ImageStore.CreateWritableLayer), before disposing it.", e);
        }
        using (dir)
        {
            using var blobHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var tarHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var blob = new HashingWriteStream(output, blobHash, leaveOpen: true);
            HashingWriteStream tar;
            Walk walk;
            using (var gzip = new GZipStream(blob, options.Compression, leaveOpen: true))
            {
                tar = new HashingWriteStream(gzip, tarHash, leaveOpen: true);
                using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
                {
                    walk = new Walk(dir, writer, options, cancellationToken);
                    try
                    {
                        walk.Directory("");
                    }
                    catch (FileSystemCallException e)
                    {
                        throw new ImageException($"the upper directory '{upperDirectory}' could not be read at '{e.Path}': {e.Call}: {ErrnoNames.Of(e.Errno)}.", null, null,
                            "Commit only after the sandbox has ended, and leave the writable layer's directories alone meanwhile.", e);
                    }
                } // the end-of-archive blocks, after at least one entry
                if (walk.Entries == 0) tar.Write(new byte[2 * 512]); // an empty tar is still a tar: its end-of-archive blocks alone
            }
            blob.Flush();
            return new LayerCommitResult(Digest.FromHash("sha256", blobHash.GetHashAndReset()), Digest.FromHash("sha256", tarHash.GetHashAndReset()),
                blob.BytesWritten, tar.BytesWritten, walk.Entries, walk.Skipped);
        }
    }

    /// <summary>
    /// The owner a layer records for an upper-directory file owned by <paramref name="hostUid"/>:<paramref name="hostGid"/> on
    /// disk. Through the image's mapping (<see cref="LayerCommitOptions.Owners"/>) where it kept the image's ids (root stores).
    /// Where it did not (<see cref="IdMapping.Unpacker"/>, rootless: every file the unpacking user's, and the sandbox user the
    /// only id mapped, so the on-disk owner cannot tell the image's files from the program's): a file copied up from the image
    /// (<paramref name="copiedUp"/>: overlayfs marked its origin) gets the owner its layer gave it (<paramref name="recorded"/>,
    /// the <see cref="RecordedOwner"/> xattr), or 0:0 without one; a file the program made gets the ids the program ran as
    /// when its host owner is the one they were mapped to (<see cref="LayerCommitOptions.SandboxUser"/>,
    /// <see cref="LayerCommitOptions.SandboxHostUser"/>: the ids the sandbox saw), 0 otherwise or when the run's ids are
    /// unknown. False if the mapping does not cover the owner.
    /// </summary>
    internal static bool TryCommittedOwner(LayerCommitOptions options, uint hostUid, uint hostGid, bool copiedUp, (int Uid, int Gid)? recorded, out int uid, out int gid)
    {
        if (options.Owners.Kind != IdMappingKind.Unpacker)
            return options.Owners.TryMapBack(hostUid, hostGid, out uid, out gid);
        if (copiedUp || options.SandboxUser is not { } user || options.SandboxHostUser is not { } host)
        {
            (uid, gid) = copiedUp && recorded is { } owner ? owner : (0, 0);
            return true;
        }
        uid = hostUid == host.Uid && user.Uid <= int.MaxValue ? (int)user.Uid : 0;
        gid = hostGid == host.Gid && user.Gid <= int.MaxValue ? (int)user.Gid : 0;
        return true;
    }

    private sealed class Walk(ConfinedDirectory dir, TarWriter writer, LayerCommitOptions options, CancellationToken cancellationToken)
    {
        private readonly string _overlayPrefix = options.XattrNamespace == OverlayXattrNamespace.User ? "user.overlay." : "trusted.overlay.";
        private readonly Dictionary<ulong, string> _firstNames = [];
        private readonly uint _euid = Geteuid();
        private readonly HashSet<string> _excluded = new(options.ExcludedPaths, StringComparer.Ordinal);
        private readonly Dictionary<string, string> _added = options.AddedFiles.ToDictionary(a => a.Path, a => a.HostFile, StringComparer.Ordinal);
        private readonly HashSet<string> _addedAncestors = new(options.AddedFiles.SelectMany(a => Ancestors(a.Path)), StringComparer.Ordinal);

        public int Entries { get; private set; }

        public int Skipped { get; private set; }

        /// <summary>Writes what directory <paramref name="path"/> holds; one the upper directory lacks (<paramref name="inUpper"/> false) only leads to added files.</summary>
        public void Directory(string path, bool inUpper = true)
        {
            var names = inUpper ? dir.List(path) : [];
            foreach (var added in _added.Keys.Concat(_addedAncestors))
            {
                var (parent, name) = ConfinedDirectory.Split(added);
                if (parent == path && !names.Contains(name)) names.Add(name);
            }
            names.Sort(StringComparer.Ordinal);
            foreach (var name in names)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string child = path.Length == 0 ? name : path + "/" + name;
                if (_added.TryGetValue(child, out var hostFile))
                {
                    HostFile(child, hostFile);
                    continue;
                }
                if (_excluded.Contains(child)) continue;
                if ((inUpper ? dir.TryStatus(child) : null) is not { } status)
                {
                    if (_addedAncestors.Contains(child)) Directory(child, inUpper: false); // no entry of its own: the lower layers' stays
                    continue;
                }
                Node(path, name, child, status);
            }
        }

        /// <summary>A file from outside the upper directory (<see cref="LayerCommitOptions.AddedFiles"/>), as a regular file at <paramref name="path"/>.</summary>
        private void HostFile(string path, string hostFile)
        {
            using var parent = ConfinedDirectory.Open(System.IO.Path.GetDirectoryName(hostFile)!);
            string name = System.IO.Path.GetFileName(hostFile);
            var status = parent.TryStatus(name) ?? throw new FileSystemCallException("statx", hostFile, 2 /* ENOENT */);
            using var handle = parent.OpenForReading(name);
            using var data = new FileStream(handle, FileAccess.Read, bufferSize: 0);
            Finish(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = data }, status, path, copiedUp: false, recorded: null);
        }

        private static IEnumerable<string> Ancestors(string path)
        {
            for (int slash = path.IndexOf('/'); slash > 0; slash = path.IndexOf('/', slash + 1))
                yield return path[..slash];
        }

        private void Node(string parent, string name, string path, FileNodeStatus status)
        {
            var xattrs = status.IsOverlayWhiteout ? [] : dir.ReadExtendedAttributes(path);
            bool copiedUp = Has(xattrs, "origin");
            (int, int)? recorded = xattrs.FirstOrDefault(x => x.Name == RecordedOwner.XattrName) is { Value: { } record } && RecordedOwner.TryParse(record, out int recordedUid, out int recordedGid)
                ? (recordedUid, recordedGid) : null;
            if (status.IsOverlayWhiteout || (status.IsRegularFile && status.Size == 0 && Has(xattrs, "whiteout")))
            {
                Add(new PaxTarEntry(TarEntryType.RegularFile, Join(parent, Whiteouts.Prefix + name)) { ModificationTime = status.ModificationTime });
                return;
            }
            var kept = xattrs.Where(x => !x.Name.StartsWith("trusted.overlay.", StringComparison.Ordinal) && !x.Name.StartsWith("user.overlay.", StringComparison.Ordinal)
                && x.Name != RecordedOwner.XattrName);
            var attributes = PaxAttributes(kept);
            PaxTarEntry entry;
            switch (status.Type)
            {
                case SIfDir:
                    entry = new PaxTarEntry(TarEntryType.Directory, path + "/", attributes);
                    Finish(entry, status, path, copiedUp, recorded);
                    if (Value(xattrs, "opaque") == "y")
                        Add(new PaxTarEntry(TarEntryType.RegularFile, Join(path, Whiteouts.OpaqueMarker)) { ModificationTime = status.ModificationTime });
                    WithOwnerAccess(path, status, 0x140, () => Directory(path));
                    return;
                case SIfReg when status.LinkCount > 1 && _firstNames.TryGetValue(status.Inode, out var first):
                    entry = new PaxTarEntry(TarEntryType.HardLink, path, attributes) { LinkName = first };
                    Finish(entry, status, path, copiedUp, recorded);
                    return;
                case SIfReg:
                    if (status.LinkCount > 1) _firstNames[status.Inode] = path;
                    entry = new PaxTarEntry(TarEntryType.RegularFile, path, attributes);
                    WithOwnerAccess(path, status, 0x100, () =>
                    {
                        using var handle = dir.OpenForReading(path);
                        using var data = new FileStream(handle, FileAccess.Read, bufferSize: 0);
                        entry.DataStream = data;
                        Finish(entry, status, path, copiedUp, recorded);
                    });
                    return;
                case SIfLnk:
                    entry = new PaxTarEntry(TarEntryType.SymbolicLink, path, attributes) { LinkName = dir.ReadSymlink(path) };
                    break;
                case SIfChr or SIfBlk:
                    entry = new PaxTarEntry(status.Type == SIfChr ? TarEntryType.CharacterDevice : TarEntryType.BlockDevice, path, attributes)
                    {
                        DeviceMajor = (int)status.RdevMajor,
                        DeviceMinor = (int)status.RdevMinor,
                    };
                    break;
                case SIfIfo:
                    entry = new PaxTarEntry(TarEntryType.Fifo, path, attributes);
                    break;
                default:
                    Skipped++; // a socket: a tar cannot hold one, and it means nothing without its listener
                    return;
            }
            Finish(entry, status, path, copiedUp, recorded);
        }

        /// <summary>
        /// Runs <paramref name="action"/> with the owner permission <paramref name="bits"/> on <paramref name="path"/>: an
        /// unprivileged owner (rootless) lacking them, e.g. for a file the sandbox made mode 000, gets them for the while.
        /// </summary>
        private void WithOwnerAccess(string path, FileNodeStatus status, uint bits, Action action)
        {
            bool lend = _euid != 0 && status.Uid == _euid && (status.Permissions & bits) != bits;
            if (lend) dir.SetMode(path, status.Permissions | bits);
            try
            {
                action();
            }
            finally
            {
                if (lend) dir.SetMode(path, status.Permissions);
            }
        }

        private void Finish(PaxTarEntry entry, FileNodeStatus status, string path, bool copiedUp, (int Uid, int Gid)? recorded)
        {
            if (!TryCommittedOwner(options, status.Uid, status.Gid, copiedUp, recorded, out int uid, out int gid))
                throw new ImageException($"'{path}' in the upper directory belongs to host uid {status.Uid}, gid {status.Gid}, which the image's id mapping ({options.Owners}) does not cover.",
                    null, null, "Run the sandbox as a user inside the image's id range, or commit with LayerCommitOptions.Owners covering that id.");
            entry.Uid = uid;
            entry.Gid = gid;
            entry.Mode = (UnixFileMode)status.Permissions;
            entry.ModificationTime = status.ModificationTime;
            Add(entry);
        }

        private void Add(PaxTarEntry entry)
        {
            writer.WriteEntry(entry);
            Entries++;
        }

        private bool Has(List<(string Name, byte[] Value)> xattrs, string overlayName) => xattrs.Any(x => x.Name == _overlayPrefix + overlayName);

        private string? Value(List<(string Name, byte[] Value)> xattrs, string overlayName) =>
            xattrs.Where(x => x.Name == _overlayPrefix + overlayName).Select(x => Encoding.UTF8.GetString(x.Value)).FirstOrDefault();

        private static string Join(string parent, string name) => parent.Length == 0 ? name : parent + "/" + name;

        /// <summary>SCHILY.xattr.NAME for a value that is text; LIBARCHIVE.xattr.NAME (base64) for one that is not, so binary values (security.capability) survive.</summary>
        private static Dictionary<string, string> PaxAttributes(IEnumerable<(string Name, byte[] Value)> xattrs)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, value) in xattrs)
            {
                string? text = null;
                if (Array.IndexOf(value, (byte)0) < 0)
                {
                    try
                    {
                        text = StrictUtf8.GetString(value);
                    }
                    catch (DecoderFallbackException)
                    {
                    }
                }
                if (text is not null && !name.Contains('=', StringComparison.Ordinal))
                    result["SCHILY.xattr." + name] = text;
                else
                    result["LIBARCHIVE.xattr." + Uri.EscapeDataString(name)] = Convert.ToBase64String(value);
            }
            return result;
        }
    }
}
