using System.Security.Cryptography;

namespace Sandbox.Images.Layers;

/// <summary>
/// A read-only pass-through that hashes and counts every byte read, and refuses to read past a limit
/// (<see cref="LimitExceededException"/>): the blob's size from its descriptor, or the uncompressed stream's cap.
/// </summary>
internal sealed class HashingReadStream(Stream inner, IncrementalHash hash, long limit) : ForwardReadStream
{
    /// <summary>Reading passed the limit.</summary>
    internal sealed class LimitExceededException(long limit) : IOException($"the stream is longer than {limit} bytes")
    {
        public long Limit { get; } = limit;
    }

    /// <summary>Bytes read so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Reads to the end (what a tar reader leaves after its end marker still counts).</summary>
    public void Drain()
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            while (Read(buffer, 0, buffer.Length) > 0) { }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The hash of everything read.</summary>
    public byte[] Finish() => hash.GetHashAndReset();

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        BytesRead += n;
        if (BytesRead > limit) throw new LimitExceededException(limit);
        hash.AppendData(buffer[..n]);
        return n;
    }

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
}
