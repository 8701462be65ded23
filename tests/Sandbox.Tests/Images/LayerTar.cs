using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;

namespace Sandbox.Tests.Images;

/// <summary>Builds layer tars entry by entry, as hostile or as ordinary as a test needs.</summary>
public sealed class LayerTar
{
    private readonly List<Action<TarWriter>> _entries = [];
    private readonly List<string> _names = [];

    /// <summary>The entries' names, in order.</summary>
    public IReadOnlyList<string> Names => _names;

    public static readonly DateTimeOffset Epoch = new(2020, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public LayerTar Directory(string name, UnixFileMode mode = (UnixFileMode)0x1ED, int uid = 0, int gid = 0) =>
        Add(() => new PaxTarEntry(TarEntryType.Directory, name) { Mode = mode, Uid = uid, Gid = gid, ModificationTime = Epoch });

    public LayerTar File(string name, string content = "", UnixFileMode mode = (UnixFileMode)0x1A4, int uid = 0, int gid = 0, IDictionary<string, string>? pax = null) =>
        File(name, System.Text.Encoding.UTF8.GetBytes(content), mode, uid, gid, pax);

    public LayerTar File(string name, byte[] content, UnixFileMode mode = (UnixFileMode)0x1A4, int uid = 0, int gid = 0, IDictionary<string, string>? pax = null) => Add(() =>
    {
        var entry = pax is null ? new PaxTarEntry(TarEntryType.RegularFile, name) : new PaxTarEntry(TarEntryType.RegularFile, name, pax);
        entry.Mode = mode;
        entry.Uid = uid;
        entry.Gid = gid;
        entry.ModificationTime = Epoch;
        entry.DataStream = new MemoryStream(content);
        return entry;
    });

    public LayerTar Symlink(string name, string target) =>
        Add(() => new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target, Mode = (UnixFileMode)0x1FF, ModificationTime = Epoch });

    public LayerTar HardLink(string name, string target) =>
        Add(() => new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target, Mode = (UnixFileMode)0x1A4, ModificationTime = Epoch });

    public LayerTar CharacterDevice(string name, int major, int minor) =>
        Add(() => new PaxTarEntry(TarEntryType.CharacterDevice, name) { DeviceMajor = major, DeviceMinor = minor, Mode = (UnixFileMode)0x1B6, ModificationTime = Epoch });

    public LayerTar Fifo(string name) =>
        Add(() => new PaxTarEntry(TarEntryType.Fifo, name) { Mode = (UnixFileMode)0x1A4, ModificationTime = Epoch });

    public LayerTar Whiteout(string directory, string name) => File(Join(directory, Whiteouts.Prefix + name));

    public LayerTar Opaque(string directory) => File(Join(directory, Whiteouts.OpaqueMarker));

    /// <summary>Adds an entry made afresh each time the tar is written (a data stream is read once).</summary>
    public LayerTar Add(Func<TarEntry> entry)
    {
        _entries.Add(w => w.WriteEntry(entry()));
        _names.Add(entry().Name);
        return this;
    }

    /// <summary>The same entries in another order.</summary>
    public LayerTar Reordered(IReadOnlyList<int> order)
    {
        var copy = new LayerTar();
        foreach (int i in order)
        {
            copy._entries.Add(_entries[i]);
            copy._names.Add(_names[i]);
        }
        return copy;
    }

    /// <summary>These entries followed by <paramref name="other"/>'s.</summary>
    public LayerTar Then(LayerTar other)
    {
        var copy = new LayerTar();
        copy._entries.AddRange(_entries);
        copy._entries.AddRange(other._entries);
        copy._names.AddRange(_names);
        copy._names.AddRange(other._names);
        return copy;
    }

    public int Count => _entries.Count;

    /// <summary>The uncompressed tar.</summary>
    public byte[] ToTar()
    {
        var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
            foreach (var write in _entries)
                write(writer);
        return stream.ToArray();
    }

    public static byte[] Compress(byte[] tar, LayerCompression compression)
    {
        switch (compression)
        {
            case LayerCompression.Gzip:
            {
                var stream = new MemoryStream();
                using (var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true))
                    gzip.Write(tar);
                return stream.ToArray();
            }
            case LayerCompression.Zstd:
            {
                using var compressor = new ZstdSharp.Compressor(3);
                return compressor.Wrap(tar).ToArray();
            }
            default:
                return tar;
        }
    }

    /// <summary>The blob, and what a manifest and config would say about it.</summary>
    public (byte[] Blob, LayerBlob Layer) ToBlob(LayerCompression compression = LayerCompression.None)
    {
        byte[] tar = ToTar();
        byte[] blob = Compress(tar, compression);
        return (blob, new LayerBlob(Digest.Sha256Of(blob), blob.Length, compression, Digest.FromHash("sha256", SHA256.HashData(tar))));
    }

    private static string Join(string directory, string name) => directory.Length == 0 ? name : directory.TrimEnd('/') + "/" + name;
}
