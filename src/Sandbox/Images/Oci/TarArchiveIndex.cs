using System.Formats.Tar;

namespace Sandbox.Images.Oci;

/// <summary>
/// Where each regular file of a tar archive lies in it (one pass over the headers), so blobs are read in place
/// from the archive, never extracted. Names are normalised ("./a//b" is "a/b"); a symlink or hard link to
/// another member is followed within the archive.
/// </summary>
internal sealed class TarArchiveIndex
{
    private const int MaxMembers = 1_000_000;

    private readonly Dictionary<string, (long Offset, long Length)> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _links = new(StringComparer.Ordinal);

    private TarArchiveIndex(string path) => Path = path;

    public string Path { get; }

    public static TarArchiveIndex Read(string path)
    {
        var index = new TarArchiveIndex(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            using var reader = new TarReader(stream);
            int count = 0;
            while (reader.GetNextEntry(copyData: false) is { } entry)
            {
                if (++count > MaxMembers)
                    throw new ImageException($"the archive has more than {MaxMembers} members.", path, null, "The archive is hostile or broken.");
                string name = Normalize(entry.Name);
                switch (entry.EntryType)
                {
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        index._files[name] = (entry.DataOffset, entry.Length);
                        break;
                    case TarEntryType.HardLink:
                        index._links[name] = Normalize(entry.LinkName);
                        break;
                    case TarEntryType.SymbolicLink:
                        index._links[name] = Normalize(entry.LinkName.StartsWith('/') ? entry.LinkName
                            : (name.Contains('/', StringComparison.Ordinal) ? name[..name.LastIndexOf('/')] + "/" : "") + entry.LinkName);
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException)
        {
            throw new ImageException($"the archive cannot be read as a tar: {e.Message}", path, null, "The archive is corrupt or truncated: write it again.", e);
        }
        return index;
    }

    public bool Contains(string name) => TryFind(name, out _, out _);

    public bool TryFind(string name, out long offset, out long length)
    {
        name = Normalize(name);
        for (int hops = 0; hops < 8; hops++)
        {
            if (_files.TryGetValue(name, out var found))
            {
                (offset, length) = found;
                return true;
            }
            if (!_links.TryGetValue(name, out name!)) break;
        }
        offset = length = 0;
        return false;
    }

    /// <summary>A read-only stream over one member.</summary>
    public Stream Open(string name)
    {
        if (!TryFind(name, out long offset, out long length))
            throw new FileNotFoundException($"the archive has no member '{name}'", name);
        var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        return new FileRangeStream(file, offset, length);
    }

    private static string Normalize(string name)
    {
        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            if (part.Length == 0 || part == ".") continue;
            if (part == "..")
            {
                if (parts.Count > 0) parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        return string.Join('/', parts);
    }
}
