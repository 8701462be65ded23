using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Sandbox.Tests;

/// <summary>
/// Counting a sandbox's output against its limit (<see cref="OutputPump"/>): captured or forwarded, exactly the limit
/// is kept, every byte is counted, and the limit is reported exceeded exactly when the program wrote more.
/// </summary>
public sealed class OutputPumpTests
{
    /// <summary>What a program wrote, as the pipe delivered it (one read per chunk), and the limit it ran under.</summary>
    public sealed record Flow(int[] Chunks, long Limit)
    {
        public long Total => Chunks.Sum(c => (long)c);

        public byte[] Bytes() => [.. Enumerable.Range(0, (int)Total).Select(i => (byte)(i * 31 % 251))];

        public override string ToString() => $"chunks [{string.Join(", ", Chunks)}], limit {Limit}";
    }

    public static class Arbitraries
    {
        public static Arbitrary<Flow> Flows() =>
            (from chunks in Gen.ListOf(Gen.Frequency((4, Gen.Choose(1, 300)), (1, Gen.Choose(1, 70_000))))
             let total = chunks.Sum(c => (long)c)
             from limit in Gen.Frequency(
                 (2, Gen.Choose(0, (int)Math.Min(total + 10, int.MaxValue)).Select(l => (long)l)),
                 (1, Gen.Elements(0L, total, total - 1, total + 1, long.MaxValue).Select(l => Math.Max(0, l))))
             select new Flow([.. chunks], limit)).ToArbitrary();
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void Forwarding_writes_exactly_the_first_limit_bytes_and_counts_every_byte(Flow flow)
    {
        byte[] input = flow.Bytes();
        var target = new MemoryStream();
        int exceeded = 0;

        var output = OutputPump.ForwardAsync(new ChunkedStream(input, flow.Chunks), target, flow.Limit, () => exceeded++).GetAwaiter().GetResult();

        long kept = Math.Min(flow.Limit, flow.Total);
        Assert.Equal(input.AsSpan(0, (int)kept).ToArray(), target.ToArray());
        Assert.Equal(kept, output.ForwardedBytes);
        Assert.Equal(flow.Total, output.TotalBytes);
        Assert.True(output.Bytes.IsEmpty);
        Assert.Equal(flow.Total > flow.Limit, output.Truncated);
        Assert.Equal(flow.Total > flow.Limit, exceeded > 0);
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void Capturing_keeps_exactly_the_first_limit_bytes_and_counts_every_byte(Flow flow)
    {
        byte[] input = flow.Bytes();
        int exceeded = 0;

        var output = OutputPump.CaptureAsync(new ChunkedStream(input, flow.Chunks), flow.Limit, () => exceeded++).GetAwaiter().GetResult();

        long kept = Math.Min(flow.Limit, flow.Total);
        Assert.Equal(input.AsSpan(0, (int)kept).ToArray(), output.Bytes.ToArray());
        Assert.Null(output.ForwardedBytes);
        Assert.Equal(flow.Total, output.TotalBytes);
        Assert.Equal(flow.Total > flow.Limit, output.Truncated);
        Assert.Equal(flow.Total > flow.Limit, exceeded > 0);
    }

    [Theory]
    [InlineData(new[] { 1024 }, 1024, false)]
    [InlineData(new[] { 1025 }, 1024, true)]
    [InlineData(new[] { 1024, 1 }, 1024, true)]
    [InlineData(new[] { 512, 511 }, 1024, false)]
    [InlineData(new[] { 1 }, 0, true)]
    public async Task The_limit_is_exceeded_by_the_byte_after_it_and_not_before(int[] chunks, long limit, bool exceeds)
    {
        var flow = new Flow(chunks, limit);
        var target = new MemoryStream();
        bool exceeded = false;

        var output = await OutputPump.ForwardAsync(new ChunkedStream(flow.Bytes(), chunks), target, limit, () => exceeded = true);

        Assert.Equal(exceeds, exceeded);
        Assert.Equal(Math.Min(limit, flow.Total), target.Length);
        Assert.Equal(exceeds, output.Truncated);
    }

    [Fact]
    public async Task A_target_that_stops_taking_bytes_closes_the_programs_pipe_so_it_gets_EPIPE()
    {
        var source = new ChunkedStream(new byte[3000], [1000, 1000, 1000]);
        var target = new BrokenAfter(1000);

        var output = await OutputPump.ForwardAsync(source, target, long.MaxValue, exceeded: null);

        Assert.True(source.Disposed);
        Assert.Equal(1000, output.ForwardedBytes);
        Assert.Equal(2000, output.TotalBytes); // the second chunk was read, then could not be written
        Assert.True(output.Truncated);
    }

    [Fact]
    public async Task Forwarding_flushes_after_every_read_so_a_terminal_sees_output_as_it_is_written()
    {
        var target = new CountingFlushes();

        await OutputPump.ForwardAsync(new ChunkedStream(new byte[30], [10, 10, 10]), target, 1000, exceeded: null);

        Assert.Equal(3, target.Flushes);
    }

    [Fact]
    public void A_forwarded_stream_keeps_what_it_forwarded_and_a_captured_one_what_it_holds()
    {
        var forwarded = new CapturedOutput(ReadOnlyMemory<byte>.Empty, 10) { ForwardedBytes = 4 };
        var captured = new CapturedOutput(new byte[4], 4);

        Assert.True(forwarded.Forwarded);
        Assert.Equal(4, forwarded.KeptBytes);
        Assert.True(forwarded.Truncated);
        Assert.False(captured.Forwarded);
        Assert.Equal(4, captured.KeptBytes);
        Assert.False(captured.Truncated);
    }

    /// <summary>Hands out its bytes one chunk per read, as a pipe delivers what each write put in it.</summary>
    private sealed class ChunkedStream(byte[] bytes, int[] chunks) : Stream
    {
        private int _chunk;
        private int _offset;
        private int _inChunk;

        public bool Disposed { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            ObjectDisposedException.ThrowIf(Disposed, this);
            while (_chunk < chunks.Length && _inChunk == chunks[_chunk])
            {
                _chunk++;
                _inChunk = 0;
            }
            if (_chunk == chunks.Length) return 0;
            int n = Math.Min(buffer.Length, chunks[_chunk] - _inChunk);
            bytes.AsSpan(_offset, n).CopyTo(buffer);
            _offset += n;
            _inChunk += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A pipe whose reader goes away after <c>capacity</c> bytes: then every write fails with EPIPE.</summary>
    private sealed class BrokenAfter(int capacity) : MemoryStream
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Length + buffer.Length > capacity) throw new IOException("Broken pipe", 32);
            return base.WriteAsync(buffer, cancellationToken);
        }
    }

    private sealed class CountingFlushes : MemoryStream
    {
        public int Flushes { get; private set; }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Flushes++;
            return Task.CompletedTask;
        }
    }
}
