namespace Sandbox.Images.Store;

/// <summary>
/// A read-only pass-through that writes every byte read into a file as it goes by: the store keeps a layer's
/// compressed blob while the applier unpacks (and verifies) it, without reading the blob a second time. The file
/// is only a temporary one; the store renames it into <c>blobs/</c> once the applier has checked the digest.
/// </summary>
internal sealed class BlobCopyingStream : ForwardReadStream
{
    private const int FileBufferBytes = 256 * 1024;

    private readonly Stream _inner;
    private readonly FileStream _copy;

    /// <summary>Reads <paramref name="inner"/> and copies it into the new file <paramref name="copyPath"/> (which must not exist).</summary>
    public BlobCopyingStream(Stream inner, string copyPath)
    {
        _inner = inner;
        _copy = new FileStream(copyPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileBufferBytes);
    }

    /// <summary>Bytes read (and copied) so far.</summary>
    public long BytesCopied { get; private set; }

    /// <summary>Writes what is still buffered to the file; call once the blob was read to its end and verified.</summary>
    public void Complete() => _copy.Flush();

    public override int Read(Span<byte> buffer)
    {
        int n = _inner.Read(buffer);
        _copy.Write(buffer[..n]);
        BytesCopied += n;
        return n;
    }

    public override long Position { get => BytesCopied; set => throw new NotSupportedException(); }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _copy.Dispose();
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
