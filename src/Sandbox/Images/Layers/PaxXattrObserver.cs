using System.Collections.Concurrent;
using System.Text;

namespace Sandbox.Images.Layers;

/// <summary>
/// Watches a tar stream go by and keeps the raw bytes of each entry's <c>SCHILY.xattr.*</c> PAX records, which
/// System.Formats.Tar decodes as UTF-8 text (so a binary value such as <c>security.capability</c> would be
/// mangled). Entries are numbered as a tar reader returns them (extended headers and long names are not
/// entries). It never throws: a stream it cannot follow only leaves it without answers, and the text values are
/// used instead. Reads happen on the read-ahead thread; <see cref="TryTake"/> is called from the writer.
/// </summary>
internal sealed class PaxXattrObserver(Stream inner) : ForwardReadStream
{
    private const int Block = 512;
    private const int MaxCapturedHeader = 1 << 20;
    private const string Prefix = "SCHILY.xattr.";

    private readonly ConcurrentDictionary<int, Dictionary<string, byte[]>> _raw = new();
    private readonly byte[] _header = new byte[Block];
    private int _headerFilled;
    private long _dataLeft;       // bytes of the current member's data, padding included, still to pass
    private long _dataSize;       // unpadded size of the current member's data
    private MemoryStream? _capture;
    private Dictionary<string, byte[]>? _pending;
    private long? _pendingSize;
    private int _entries;
    private bool _lost;

    /// <summary>The raw xattr values of entry <paramref name="index"/> (0-based), if it had any.</summary>
    public bool TryTake(int index, out Dictionary<string, byte[]> xattrs) => _raw.TryRemove(index, out xattrs!);

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        if (!_lost && n > 0)
        {
            try
            {
                Observe(buffer[..n]);
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentException or DecoderFallbackException)
            {
                _lost = true;
            }
        }
        return n;
    }

    private void Observe(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (_dataLeft > 0)
            {
                int take = (int)Math.Min(_dataLeft, bytes.Length);
                if (_capture is not null)
                {
                    long consumed = RoundUp(_dataSize) - _dataLeft;
                    int useful = (int)Math.Clamp(_dataSize - consumed, 0, take);
                    _capture.Write(bytes[..useful]);
                }
                _dataLeft -= take;
                bytes = bytes[take..];
                if (_dataLeft == 0 && _capture is not null)
                {
                    ParsePax(_capture.ToArray());
                    _capture = null;
                }
                continue;
            }
            int copy = Math.Min(Block - _headerFilled, bytes.Length);
            bytes[..copy].CopyTo(_header.AsSpan(_headerFilled));
            _headerFilled += copy;
            bytes = bytes[copy..];
            if (_headerFilled == Block)
            {
                _headerFilled = 0;
                OnHeader();
            }
        }
    }

    private void OnHeader()
    {
        if (_header.AsSpan().IndexOfAnyExcept((byte)0) < 0) return; // an end-of-archive block
        byte type = _header[156];
        long size = ParseSize(_header.AsSpan(124, 12));
        switch (type)
        {
            case (byte)'x':
                _capture = size <= MaxCapturedHeader ? new MemoryStream((int)size) : null;
                break;
            case (byte)'L' or (byte)'K':
                break; // GNU long names: folded into the next entry by the reader
            default: // every other header is an entry the reader returns, a global PAX header included
                if (_pending is not null) _raw[_entries] = _pending;
                if (_pendingSize is { } paxSize) size = paxSize;
                _pending = null;
                _pendingSize = null;
                _entries++;
                // Only regular files (and contiguous, V7) and global headers carry data; links, directories and devices none, whatever the header says.
                if (type is not ((byte)'0' or 0 or (byte)'7' or (byte)'g')) size = 0;
                break;
        }
        _dataSize = size;
        _dataLeft = RoundUp(size);
    }

    private void ParsePax(byte[] data)
    {
        int at = 0;
        while (at < data.Length)
        {
            int space = Array.IndexOf(data, (byte)' ', at);
            if (space < 0) break;
            int length = int.Parse(Encoding.ASCII.GetString(data, at, space - at), System.Globalization.CultureInfo.InvariantCulture);
            if (length <= 0 || at + length > data.Length) break;
            int equals = Array.IndexOf(data, (byte)'=', space + 1, at + length - space - 1);
            if (equals < 0) break;
            string key = Encoding.UTF8.GetString(data, space + 1, equals - space - 1);
            byte[] value = data[(equals + 1)..(at + length - 1)]; // the record ends with '\n'
            if (key.StartsWith(Prefix, StringComparison.Ordinal))
                (_pending ??= new Dictionary<string, byte[]>(StringComparer.Ordinal))[key[Prefix.Length..]] = value;
            else if (key == "size")
                _pendingSize = long.Parse(Encoding.ASCII.GetString(value), System.Globalization.CultureInfo.InvariantCulture);
            at += length;
        }
    }

    private static long ParseSize(ReadOnlySpan<byte> field)
    {
        if ((field[0] & 0x80) != 0)
        {
            long value = field[0] & 0x7f;
            for (int i = 1; i < field.Length; i++) value = checked((value << 8) | field[i]);
            return value;
        }
        long octal = 0;
        foreach (byte b in field)
        {
            if (b is 0 or (byte)' ') { if (octal > 0) break; continue; }
            if (b is < (byte)'0' or > (byte)'7') throw new FormatException("not an octal size");
            octal = checked((octal * 8) + (b - '0'));
        }
        return octal;
    }

    private static long RoundUp(long size) => (size + Block - 1) / Block * Block;
}
