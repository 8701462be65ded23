using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Sandbox.Images.Layers;

/// <summary>
/// Reads a stream ahead on its own thread, in pooled chunks through a small bounded queue, so that
/// decompressing and hashing a layer (the producer) runs beside writing its files (the consumer) — what
/// <c>tar -xzf</c> gets from running gzip as a separate process. An exception of the producer is rethrown to the
/// consumer, as itself, after the data that came before it;
/// <c>afterEnd</c> runs on the producer once the source is exhausted (draining the compressed stream, so its digest covers every byte).
/// </summary>
internal sealed class ReadAheadStream : ForwardReadStream
{
    private const int ChunkSize = 256 * 1024;
    private const int QueuedChunks = 8;

    private readonly BlockingCollection<(byte[]? Buffer, int Length, ExceptionDispatchInfo? Error)> _queue = new(QueuedChunks);
    private readonly Thread _producer;
    private readonly CancellationTokenSource _stop = new();
    private byte[]? _current;
    private int _offset;
    private int _length;
    private bool _ended;

    public ReadAheadStream(Stream source, Action afterEnd)
    {
        _producer = new Thread(() => Produce(source, afterEnd)) { IsBackground = true, Name = "layer read-ahead" };
        _producer.Start();
    }

    private void Produce(Stream source, Action afterEnd)
    {
        try
        {
            while (true)
            {
                byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
                int filled = 0;
                int n;
                try
                {
                    while (filled < ChunkSize && (n = source.Read(buffer, filled, ChunkSize - filled)) > 0)
                        filled += n;
                }
                catch (Exception) when (filled > 0)
                {
                    // What came before the failure is delivered first, then the failure (queued below).
                    _queue.Add((buffer, filled, null), _stop.Token);
                    throw;
                }
                if (filled == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    break;
                }
                _queue.Add((buffer, filled, null), _stop.Token);
            }
            afterEnd();
            _queue.Add((null, 0, null), _stop.Token);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            try
            {
                _queue.Add((null, 0, ExceptionDispatchInfo.Capture(e)), _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        while (_current is null || _offset == _length)
        {
            if (_ended) return 0;
            if (_current is not null) ArrayPool<byte>.Shared.Return(_current);
            _current = null;
            var (next, length, error) = _queue.Take();
            error?.Throw();
            if (next is null)
            {
                _ended = true;
                return 0;
            }
            (_current, _offset, _length) = (next, 0, length);
        }
        int count = Math.Min(buffer.Length, _length - _offset);
        _current.AsSpan(_offset, count).CopyTo(buffer);
        _offset += count;
        return count;
    }

    /// <summary>Reads to the end: afterwards the producer has finished (and its afterEnd ran).</summary>
    public void Drain()
    {
        Span<byte> sink = stackalloc byte[4096];
        while (Read(sink) > 0) { }
        _producer.Join();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Cancel();
            while (_queue.TryTake(out var item))
                if (item.Buffer is not null) ArrayPool<byte>.Shared.Return(item.Buffer);
            _producer.Join();
            while (_queue.TryTake(out var item))
                if (item.Buffer is not null) ArrayPool<byte>.Shared.Return(item.Buffer);
            if (_current is not null) ArrayPool<byte>.Shared.Return(_current);
            _current = null;
            _queue.Dispose();
            _stop.Dispose();
        }
        base.Dispose(disposing);
    }
}
