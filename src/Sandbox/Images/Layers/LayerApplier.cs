using System.Buffers;
using System.Collections.Immutable;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Sandbox.Images.Oci;
using Sandbox.Interop;
using static Sandbox.Interop.FileSystemCalls;

namespace Sandbox.Images.Layers;

/// <summary>
/// Unpacks one layer blob into a directory, verifying the blob's digest and its diff id as every byte goes by.
/// Every write goes through a <see cref="ConfinedDirectory"/>: no entry can land outside the directory, and no
/// symlink (the layer's own or one already there) is ever followed. Whiteouts become overlayfs' format or are
/// applied (<see cref="WhiteoutFormat"/>). A broken, hostile or mismatching layer is a <see cref="LayerException"/>
/// naming the layer and the entry; the caller removes the directory (the store unpacks into a fresh temporary one).
/// </summary>
public static class LayerApplier
{
    private const int MaxNotes = 100;
    private const int CopyBufferSize = 256 * 1024;

    /// <summary>Unpacks <paramref name="blob"/> (read to its end) into <paramref name="directory"/>.</summary>
    public static LayerApplyResult Apply(Stream blob, LayerBlob layer, string directory, LayerApplyOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(options);
        using var target = ConfinedDirectory.Open(directory);
        return new Run(target, layer, options, cancellationToken).Apply(blob);
    }

    /// <summary>Opens the decompressor for <paramref name="compression"/> over <paramref name="compressed"/>.</summary>
    internal static Stream Decompress(Stream compressed, LayerCompression compression) => compression switch
    {
        LayerCompression.Gzip => new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true),
        LayerCompression.Zstd => new ZstdSharp.DecompressionStream(compressed, leaveOpen: true),
        _ => compressed,
    };

    private sealed class Run(ConfinedDirectory dir, LayerBlob layer, LayerApplyOptions options, CancellationToken cancellationToken)
    {
        private readonly LayerLimits _limits = options.Limits;
        private readonly bool _overlay = options.Whiteouts == WhiteoutFormat.Overlay;
        private readonly HashSet<string> _produced = new(StringComparer.Ordinal);
        private readonly HashSet<string> _knownDirectories = new(StringComparer.Ordinal) { "" };
        private readonly HashSet<string> _whiteoutNodes = new(StringComparer.Ordinal);
        private readonly List<(string Path, string Entry)> _whiteouts = [];
        private readonly HashSet<string> _opaque = new(StringComparer.Ordinal);
        private readonly Dictionary<string, PendingDirectory> _directories = new(StringComparer.Ordinal);
        private readonly List<LayerNote> _notes = [];
        private int _moreNotes;
        private int _entries;
        private long _fileBytes;
        private string? _entry;
        private PaxXattrObserver? _observer;
        private Dictionary<string, byte[]>? _rawXattrs;

        public LayerApplyResult Apply(Stream blob)
        {
            using var compressedHash = layer.Digest.CreateHash();
            using var tarHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var compressed = new HashingReadStream(blob, compressedHash, layer.Size ?? long.MaxValue);
            HashingReadStream? tar = null;
            try
            {
                using (var decompressed = Decompress(compressed, layer.Compression))
                {
                    tar = new HashingReadStream(decompressed, tarHash, _limits.MaxStreamBytes);
                    _observer = new PaxXattrObserver(tar);
                    // Decompressing and hashing run on a read-ahead thread beside the writing of files.
                    using var ahead = new ReadAheadStream(_observer, afterEnd: compressed.Drain);
                    using var reader = new TarReader(ahead, leaveOpen: true);
                    byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
                    try
                    {
                        while (reader.GetNextEntry(copyData: false) is { } entry)
                        {
                            _entry = entry.Name;
                            if ((++_entries & 0xff) == 0) cancellationToken.ThrowIfCancellationRequested();
                            if (_entries > _limits.MaxEntries)
                                throw Fail(LayerProblem.TooManyEntries, $"the layer has more than {_limits.MaxEntries} entries",
                                    "Raise LayerLimits.MaxEntries if the image is trusted.");
                            Unpack(entry, buffer);
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                    _entry = null;
                    ahead.Drain(); // the rest of the tar (padding counts in the diff id), then the rest of the blob
                }
            }
            catch (LayerException)
            {
                throw;
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch (HashingReadStream.LimitExceededException e) when (tar is null || e.Limit != _limits.MaxStreamBytes || compressed.BytesRead > (layer.Size ?? long.MaxValue))
            {
                throw Fail(LayerProblem.DigestMismatch, $"the blob is longer than the {layer.Size} bytes the manifest gives", "The blob is corrupt or not the one the manifest names: pull it again.", e);
            }
            catch (HashingReadStream.LimitExceededException e)
            {
                throw Fail(LayerProblem.TooLarge, $"the uncompressed layer is longer than {e.Limit} bytes", "Raise LayerLimits.MaxTotalBytes if the image is trusted.", e);
            }
            catch (FileSystemCallException e)
            {
                throw FromFileSystem(e);
            }
            catch (Exception e) when (e is EndOfStreamException or InvalidDataException or FormatException or IOException or ArgumentException or ZstdSharp.ZstdException)
            {
                string where = _entry is null ? "" : " (while reading this entry)";
                throw Fail(LayerProblem.Malformed, $"the {(layer.Compression == LayerCompression.None ? "tar" : $"{layer.Compression.ToString().ToLowerInvariant()} stream")} is malformed or truncated{where}: {e.Message}",
                    "The blob is corrupt or incomplete: pull it again; if it persists the image itself is broken.", e);
            }

            var digest = Digest.FromHash(layer.Digest.Algorithm, compressed.Finish());
            if (digest != layer.Digest)
                throw Fail(LayerProblem.DigestMismatch, $"the blob's digest is {digest}, not {layer.Digest}", "The blob is corrupt or was tampered with: pull it again from a source you trust.");
            if (layer.Size is { } size && compressed.BytesRead != size)
                throw Fail(LayerProblem.DigestMismatch, $"the blob has {compressed.BytesRead} bytes, not the {size} the manifest gives", "The blob is truncated: pull it again.");
            var diffId = Digest.FromHash("sha256", tar!.Finish());
            if (layer.DiffId is { } expected && expected != diffId)
                throw Fail(LayerProblem.DiffIdMismatch, $"the uncompressed tar's digest is {diffId}, not the config's diff id {expected}", "The image's config does not match its layers: the image is broken or was tampered with.");

            try
            {
                if (_overlay) MarkOpaqueDirectories();
                else ApplyWhiteouts();
                FinishDirectories();
            }
            catch (FileSystemCallException e)
            {
                throw FromFileSystem(e);
            }
            return new LayerApplyResult(digest, diffId, compressed.BytesRead, tar.BytesRead, _entries, _fileBytes, [.. _notes]) { MoreNotes = _moreNotes };
        }

        private void Unpack(TarEntry entry, byte[] buffer)
        {
            _rawXattrs = _observer!.TryTake(_entries - 1, out var raw) ? raw : null;
            if (entry.EntryType is TarEntryType.GlobalExtendedAttributes) return;
            if (!LayerEntryPath.TryNormalize(entry.Name, _limits, out string path, out var problem, out string reason))
                throw Fail(problem, reason, "The layer is hostile or broken: do not use this image.");
            if (path.Length == 0) return; // "./": the layer's root itself keeps the store's metadata
            var (parent, name) = ConfinedDirectory.Split(path);

            switch (Whiteouts.Classify(name, out string hidden))
            {
                case WhiteoutKind.Opaque:
                    if (_overlay) EnsureDirectory(parent); // the xattr needs its directory; applied, a missing one hides nothing
                    _opaque.Add(parent);
                    return;
                case WhiteoutKind.Metadata:
                    Note($"'{name}' is overlay/AUFS metadata, not a whiteout; skipped");
                    return;
                case WhiteoutKind.Invalid:
                    throw Fail(LayerProblem.InvalidPath, $"'{name}' is a whiteout of nothing", "The layer is broken: do not use this image.");
                case WhiteoutKind.Whiteout:
                    if (_overlay) EnsureDirectory(parent); // the 0/0 device needs its directory; applied, there is nothing to remove
                    WhiteOut(LayerEntryPath.Join(parent, hidden));
                    return;
            }

            if (entry is PaxTarEntry pax && pax.ExtendedAttributes.Keys.Any(k => k.StartsWith("GNU.sparse.", StringComparison.Ordinal)))
                throw Fail(LayerProblem.UnsupportedEntry, "GNU sparse files are not supported", "Rebuild the image without sparse files (tar without --sparse).");
            EnsureDirectory(parent);
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    MakeDirectory(path, entry);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    WriteFile(path, entry, buffer);
                    break;
                case TarEntryType.SymbolicLink:
                    MakeSymlink(path, entry);
                    break;
                case TarEntryType.HardLink:
                    MakeHardLink(path, entry);
                    break;
                case TarEntryType.CharacterDevice or TarEntryType.BlockDevice:
                    if (!MakeDevice(path, entry)) return;
                    break;
                case TarEntryType.Fifo:
                    Replace(path, p => dir.CreateNode(p, SIfIfo | 0x180, 0));
                    FinishNode(path, entry);
                    break;
                default:
                    throw Fail(LayerProblem.UnsupportedEntry, $"entries of type {entry.EntryType} are not supported", "Rebuild the image with a standard tar (regular files, directories, links, devices).");
            }
            _produced.Add(path);
        }

        /// <summary>Makes sure <paramref name="path"/> is a real directory, creating missing ones (0755, root) on the way.</summary>
        private void EnsureDirectory(string path)
        {
            if (_knownDirectories.Contains(path)) return;
            var (parent, _) = ConfinedDirectory.Split(path);
            EnsureDirectory(parent);
            if (dir.TryCreateDirectory(path, 0x1C0))
            {
                PendImplicit(path);
                _produced.Add(path);
            }
            else
            {
                var status = dir.TryStatus(path);
                if (status is { IsDirectory: true })
                {
                }
                else if (status is { IsOverlayWhiteout: true } && _whiteoutNodes.Remove(path))
                {
                    // The layer removed this from below and now puts a directory here: only its own children count.
                    dir.Remove(path);
                    dir.TryCreateDirectory(path, 0x1C0);
                    PendImplicit(path);
                    _opaque.Add(path);
                    _produced.Add(path);
                }
                else
                {
                    throw Fail(LayerProblem.SymlinkInPath,
                        $"'{path}' is {(status is { IsSymlink: true } ? "a symbolic link" : "not a directory")}, and an entry lies beneath it",
                        "The layer tries to write through a link or a file: it is hostile or broken; do not use this image.");
                }
            }
            _knownDirectories.Add(path);
        }

        private void PendImplicit(string path)
        {
            options.Owners.TryMap(0, 0, out uint uid, out uint gid);
            _directories[path] = new PendingDirectory(0x1ED, uid, gid, null, null);
        }

        private void MakeDirectory(string path, TarEntry entry)
        {
            if (!dir.TryCreateDirectory(path, 0x1C0))
            {
                var status = dir.TryStatus(path);
                if (status is not { IsDirectory: true })
                {
                    bool wasWhiteout = status is { IsOverlayWhiteout: true } && _whiteoutNodes.Remove(path);
                    RemoveExisting(path);
                    dir.TryCreateDirectory(path, 0x1C0);
                    if (wasWhiteout) _opaque.Add(path);
                }
            }
            _knownDirectories.Add(path);
            var (uid, gid) = Owner(entry);
            var xattrs = Xattrs(entry);
            if (OwnerRecord(entry) is { } record) xattrs.Add((RecordedOwner.XattrName, record));
            _directories[path] = new PendingDirectory((uint)entry.Mode & 0xFFF, uid, gid, entry.ModificationTime, xattrs);
        }

        private void WriteFile(string path, TarEntry entry, byte[] buffer)
        {
            long length = entry.Length;
            if (length < 0 || _fileBytes + length > _limits.MaxTotalBytes)
                throw Fail(LayerProblem.TooLarge, $"the layer's files add up to more than {_limits.MaxTotalBytes} bytes", "Raise LayerLimits.MaxTotalBytes if the image is trusted.");
            var (uid, gid) = Owner(entry);
            SafeFileHandle? file = null;
            Replace(path, p => file = dir.CreateFile(p, 0x180));
            using (file)
            {
                long offset = 0;
                if (entry.DataStream is { } data)
                {
                    int n;
                    while ((n = data.Read(buffer, 0, buffer.Length)) > 0)
                    {
                        RandomAccess.Write(file!, buffer.AsSpan(0, n), offset);
                        offset += n;
                    }
                }
                if (offset != length)
                    throw new EndOfStreamException($"the entry's data ends after {offset} of {length} bytes");
                _fileBytes += length;
                if (OwnerRecord(entry) is { } record) // while the file is still writable: setting a user.* xattr needs that
                    TrySetXattr(path, RecordedOwner.XattrName, record, () => ConfinedDirectory.SetExtendedAttribute(file!, RecordedOwner.XattrName, record, path));
                // Owner and mode first: a chown clears security.capability (and setuid), so xattrs come after it.
                ConfinedDirectory.SetOwnerAndMode(file!, options.Owners.ChangesOwners ? uid : null, gid, (uint)entry.Mode & 0xFFF, path);
                foreach (var (name, value) in Xattrs(entry))
                    TrySetXattr(path, name, value, () => ConfinedDirectory.SetExtendedAttribute(file!, name, value, path));
                ConfinedDirectory.SetTimes(file!, entry.ModificationTime, entry.ModificationTime, path);
            }
        }

        private void MakeSymlink(string path, TarEntry entry)
        {
            string target = entry.LinkName;
            if (target.Length == 0 || target.Contains('\0', StringComparison.Ordinal))
                throw Fail(LayerProblem.InvalidPath, "the symbolic link's text is empty or has a NUL", "The layer is broken: do not use this image.");
            if (System.Text.Encoding.UTF8.GetByteCount(target) > _limits.MaxLinkTargetBytes)
                throw Fail(LayerProblem.PathTooLong, $"the symbolic link's text is longer than {_limits.MaxLinkTargetBytes} bytes", "The layer is hostile or broken: do not use this image.");
            Replace(path, p => dir.CreateSymlink(p, target));
            var (uid, gid) = Owner(entry);
            if (options.Owners.ChangesOwners) dir.SetOwner(path, uid, gid);
            foreach (var (name, value) in Xattrs(entry))
                TrySetXattr(path, name, value, () => dir.SetExtendedAttribute(path, name, value));
            dir.SetTimes(path, entry.ModificationTime, entry.ModificationTime);
        }

        private void MakeHardLink(string path, TarEntry entry)
        {
            if (!LayerEntryPath.TryNormalize(entry.LinkName, _limits, out string existing, out _, out string reason))
                throw Fail(LayerProblem.HardLinkOutside, $"the hard link's target '{entry.LinkName}' is unusable: {reason}", "The layer is hostile or broken: do not use this image.");
            if (existing == path) return;
            FileNodeStatus? status;
            try
            {
                status = dir.TryStatus(existing);
            }
            catch (FileSystemCallException e) when (e.Errno is ELOOP or EXDEV or ENOTDIR)
            {
                status = null;
            }
            if (status is null || status.Value.IsDirectory || (_overlay && _whiteoutNodes.Contains(existing)) || !_produced.Contains(existing))
                throw Fail(LayerProblem.HardLinkOutside, $"the hard link names '{entry.LinkName}', which is not a file of this layer", "The layer is hostile or broken: do not use this image.");
            Replace(path, p => dir.CreateHardLink(p, existing));
        }

        private bool MakeDevice(string path, TarEntry entry)
        {
            var (major, minor) = entry is PosixTarEntry posix ? (posix.DeviceMajor, posix.DeviceMinor) : (0, 0);
            switch (options.DeviceNodes)
            {
                case DeviceNodePolicy.Skip:
                    Note($"{(entry.EntryType == TarEntryType.CharacterDevice ? "character" : "block")} device {major}:{minor} skipped (device nodes are not created without root)");
                    return false;
                case DeviceNodePolicy.Reject:
                    throw Fail(LayerProblem.DeviceNode, $"the layer has a device node {major}:{minor}", "Use an image without device nodes, or allow them (DeviceNodePolicy.Create as root, Skip otherwise).");
            }
            uint type = entry.EntryType == TarEntryType.CharacterDevice ? SIfChr : SIfBlk;
            ulong device = FileSystemCalls.MakeDevice((uint)major, (uint)minor);
            Replace(path, p => dir.CreateNode(p, type | 0x180, device));
            FinishNode(path, entry);
            return true;
        }

        private void FinishNode(string path, TarEntry entry)
        {
            var (uid, gid) = Owner(entry);
            if (options.Owners.ChangesOwners) dir.SetOwner(path, uid, gid);
            dir.SetMode(path, (uint)entry.Mode & 0xFFF);
            foreach (var (name, value) in Xattrs(entry))
                TrySetXattr(path, name, value, () => dir.SetExtendedAttribute(path, name, value));
            dir.SetTimes(path, entry.ModificationTime, entry.ModificationTime);
        }

        /// <summary>Creates with <paramref name="create"/>; if something is already there, removes it (a whole tree if need be) and creates again.</summary>
        private void Replace(string path, Action<string> create)
        {
            try
            {
                create(path);
                return;
            }
            catch (FileSystemCallException e) when (e.Errno == EEXIST)
            {
            }
            _whiteoutNodes.Remove(path);
            RemoveExisting(path);
            create(path);
        }

        private void RemoveExisting(string path)
        {
            dir.Remove(path);
            _knownDirectories.RemoveWhere(d => LayerEntryPath.IsWithin(d, path));
            foreach (var key in _directories.Keys.Where(d => LayerEntryPath.IsWithin(d, path)).ToList())
                _directories.Remove(key);
            _knownDirectories.Add("");
        }

        private void WhiteOut(string path)
        {
            if (_overlay)
            {
                var status = dir.TryStatus(path);
                if (status is { } existing && _produced.Contains(path))
                {
                    // Whiteouts hide only what is below; a directory this layer brings keeps just its own children.
                    if (existing.IsDirectory) _opaque.Add(path);
                    return;
                }
                if (status is not null) RemoveExisting(path);
                dir.CreateNode(path, SIfChr, 0);
                _whiteoutNodes.Add(path);
            }
            else
            {
                _whiteouts.Add((path, _entry ?? path));
            }
        }

        private void MarkOpaqueDirectories()
        {
            byte[] yes = "y"u8.ToArray();
            foreach (var path in _opaque)
            {
                if (dir.TryStatus(path) is not { IsDirectory: true }) continue;
                using var handle = dir.OpenDirectoryForMetadata(path);
                foreach (var name in options.OpaqueXattrs)
                    ConfinedDirectory.SetExtendedAttribute(handle, name, yes, path);
            }
        }

        /// <summary>Apply mode: whiteouts and opaque directories remove what is below, never what this layer brought.</summary>
        private void ApplyWhiteouts()
        {
            var keep = new HashSet<string>(_produced, StringComparer.Ordinal);
            foreach (var path in _produced)
                foreach (var ancestor in LayerEntryPath.Ancestors(path))
                    keep.Add(ancestor);
            foreach (var (path, entry) in _whiteouts)
            {
                _entry = entry;
                RemoveBelow(path, keep);
            }
            foreach (var path in _opaque)
            {
                _entry = LayerEntryPath.Join(path, Whiteouts.OpaqueMarker);
                if (dir.TryStatus(path) is { IsDirectory: true })
                    foreach (var child in dir.List(path))
                        RemoveBelow(LayerEntryPath.Join(path, child), keep);
            }
            _entry = null;
        }

        private void RemoveBelow(string path, HashSet<string> keep)
        {
            if (dir.TryStatus(path) is not { } status) return;
            if (keep.Contains(path))
            {
                if (status.IsDirectory)
                    foreach (var child in dir.List(path))
                        RemoveBelow(LayerEntryPath.Join(path, child), keep);
                return;
            }
            RemoveExisting(path);
        }

        /// <summary>Directory owners, modes, xattrs and times last, deepest first, so writing children does not undo them.</summary>
        private void FinishDirectories()
        {
            foreach (var (path, pending) in _directories.OrderByDescending(d => d.Key.Count(c => c == '/')).ThenByDescending(d => d.Key, StringComparer.Ordinal))
            {
                if (path.Length == 0 || dir.TryStatus(path) is not { IsDirectory: true }) continue;
                if (pending.Xattrs is { Count: > 0 } xattrs)
                {
                    using var handle = dir.OpenDirectoryForMetadata(path);
                    foreach (var (name, value) in xattrs)
                        TrySetXattr(path, name, value, () => ConfinedDirectory.SetExtendedAttribute(handle, name, value, path));
                }
                if (options.Owners.ChangesOwners) dir.SetOwner(path, pending.Uid, pending.Gid);
                dir.SetMode(path, pending.Mode);
                if (pending.ModificationTime is { } time) dir.SetTimes(path, time, time);
            }
        }

        private (uint Uid, uint Gid) Owner(TarEntry entry)
        {
            if (!options.Owners.TryMap(entry.Uid, entry.Gid, out uint uid, out uint gid))
                throw Fail(LayerProblem.UnmappedOwner, $"the owner {entry.Uid}:{entry.Gid} is outside the mapped range ({options.Owners})",
                    "Widen the id mapping (IdMapping.Shift with a larger size) to cover the image's ids.");
            return (uid, gid);
        }

        /// <summary>The <see cref="RecordedOwner"/> xattr for a file or directory whose layer owner the unpacking cannot give it, or null.</summary>
        private byte[]? OwnerRecord(TarEntry entry) =>
            options.Owners.Kind == IdMappingKind.Unpacker ? RecordedOwner.ValueFor(entry.Uid, entry.Gid) : null;

        private List<(string Name, byte[] Value)> Xattrs(TarEntry entry)
        {
            if (entry is not PaxTarEntry pax) return [];
            List<(string, byte[])>? result = null;
            foreach (var (key, value) in pax.ExtendedAttributes)
            {
                string name;
                byte[] bytes;
                if (key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal))
                {
                    name = key["SCHILY.xattr.".Length..];
                    if (_rawXattrs is not null && _rawXattrs.TryGetValue(name, out var rawValue))
                    {
                        bytes = rawValue; // exact bytes: binary values (security.capability) survive
                    }
                    else if (value.Contains('\uFFFD', StringComparison.Ordinal))
                    {
                        Note($"xattr {name} has a binary value the tar reader cannot keep; skipped");
                        continue;
                    }
                    else
                    {
                        bytes = System.Text.Encoding.UTF8.GetBytes(value);
                    }
                }
                else if (key.StartsWith("LIBARCHIVE.xattr.", StringComparison.Ordinal))
                {
                    name = Uri.UnescapeDataString(key["LIBARCHIVE.xattr.".Length..]);
                    try
                    {
                        bytes = Convert.FromBase64String(value.PadRight(value.Length + ((4 - value.Length % 4) % 4), '='));
                    }
                    catch (FormatException)
                    {
                        Note($"xattr {name} has a value that is not base64; skipped");
                        continue;
                    }
                }
                else
                {
                    continue;
                }
                if (name.StartsWith("trusted.overlay.", StringComparison.Ordinal) || name.StartsWith("user.overlay.", StringComparison.Ordinal))
                {
                    Note($"xattr {name} is overlayfs' own and is never taken from a layer; skipped");
                    continue;
                }
                if (name == RecordedOwner.XattrName)
                {
                    Note($"xattr {name} is the store's own record of an owner and is never taken from a layer; skipped");
                    continue;
                }
                if (name.Length == 0 || name.Contains('\0', StringComparison.Ordinal)) continue;
                (result ??= []).Add((name, bytes));
            }
            return result ?? [];
        }

        private void TrySetXattr(string path, string name, byte[] value, Action set)
        {
            try
            {
                set();
            }
            catch (FileSystemCallException e) when (e.Errno is EPERM or EOPNOTSUPP or EACCES or ENODATA or EINVAL)
            {
                Note($"xattr {name} not set: {ErrnoNames.Of(e.Errno)}");
            }
        }

        private void Note(string message)
        {
            if (_notes.Count < MaxNotes) _notes.Add(new LayerNote(_entry ?? "", message));
            else _moreNotes++;
        }

        private LayerException FromFileSystem(FileSystemCallException e) => e.Errno switch
        {
            ELOOP or EXDEV => Fail(LayerProblem.SymlinkInPath, $"'{e.Path}' passes through a symbolic link ({e.Call}: {ErrnoNames.Of(e.Errno)})",
                "The layer tries to write through a link: it is hostile or broken; do not use this image.", e),
            ENOTDIR => Fail(LayerProblem.SymlinkInPath, $"'{e.Path}' passes through something that is not a directory ({e.Call}: {ErrnoNames.Of(e.Errno)})",
                "The layer is hostile or broken: do not use this image.", e),
            ENAMETOOLONG => Fail(LayerProblem.PathTooLong, $"'{e.Path}' is too long for the file system", "The layer is hostile or broken: do not use this image.", e),
            _ => Fail(LayerProblem.WriteFailed, $"{e.Call} '{e.Path}' failed: {ErrnoNames.Of(e.Errno)} ({System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(e.Errno)})",
                e.Errno is EPERM or EACCES
                    ? "Unpack as root, or with LayerApplyOptions.Rootless (no chown, no device nodes, user.* xattrs)."
                    : "Check free space and that the store's file system supports what the layer needs (xattrs, device nodes).", e),
        };

        private LayerException Fail(LayerProblem kind, string problem, string fix, Exception? inner = null) =>
            new(kind, layer.Digest, _entry, problem, fix, inner);
    }

    private sealed record PendingDirectory(uint Mode, uint Uid, uint Gid, DateTimeOffset? ModificationTime, List<(string Name, byte[] Value)>? Xattrs);
}
