namespace Sandbox.Images.Registry;

/// <summary>
/// The body of one upload request: the next <c>length</c> bytes of a blob being read in order (all of it for a
/// monolithic PUT, one chunk for a PATCH), each read reported so progress can be shown. Not seekable, so the HTTP
/// stack never rewinds it; disposing it disposes the blob's stream when it owns it.
/// </summary>
internal sealed class UploadBodyStream(Stream blob, long length, Action<int> sent, bool ownsBlob) : ForwardReadStream
{
    private readonly long _length = length;
    private long _left = length;

    public override int Read(Span<byte> buffer)
    {
        if (_left == 0) return 0;
        int n = blob.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
        if (n == 0) throw new EndOfStreamException($"the blob ended {_left} bytes short of what was announced.");
        _left -= n;
        sent(n);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_left == 0) return 0;
        int n = await blob.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], cancellationToken).ConfigureAwait(false);
        if (n == 0) throw new EndOfStreamException($"the blob ended {_left} bytes short of what was announced.");
        _left -= n;
        sent(n);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Length => _length;
    public override long Position { get => _length - _left; set => throw new NotSupportedException(); }

    protected override void Dispose(bool disposing)
    {
        if (disposing && ownsBlob) blob.Dispose();
        base.Dispose(disposing);
    }
}
