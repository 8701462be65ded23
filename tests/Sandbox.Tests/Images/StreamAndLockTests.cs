using Sandbox.Images.Layers;
using Sandbox.Interop;

namespace Sandbox.Tests.Images;

/// <summary>The read-ahead pipe between decompression and unpacking, and the file locks the store coordinates with.</summary>
public sealed class StreamAndLockTests
{
    [Fact]
    public void Read_ahead_delivers_every_byte_in_order_then_runs_after_end()
    {
        byte[] data = new byte[3_000_000];
        new Random(3).NextBytes(data);
        bool ended = false;
        using var ahead = new ReadAheadStream(new MemoryStream(data), () => ended = true);

        var copy = new MemoryStream();
        ahead.CopyTo(copy, 7777);
        ahead.Drain();

        Assert.Equal(data, copy.ToArray());
        Assert.True(ended);
    }

    [Fact]
    public void Read_ahead_rethrows_the_sources_exception_after_the_data_before_it()
    {
        using var ahead = new ReadAheadStream(new FailingStream(1000, new InvalidDataException("bad block")), () => { });

        byte[] buffer = new byte[100];
        int total = 0, n;
        var e = Assert.Throws<InvalidDataException>(() => { while ((n = ahead.Read(buffer)) > 0) total += n; });

        Assert.Equal("bad block", e.Message);
        Assert.Equal(1000, total);
    }

    [Fact]
    public async Task Disposing_read_ahead_early_stops_its_thread()
    {
        var ahead = new ReadAheadStream(new FailingStream(long.MaxValue, null), () => { });
        ahead.ReadExactly(new byte[10]);

        await Task.Run(ahead.Dispose).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void An_exclusive_lock_excludes_every_other_holder_until_it_is_released()
    {
        using var scratch = new ScratchDirectory();
        string path = scratch.Combine("x.lock");

        using (var shared = FileLock.Acquire(path, exclusive: false))
        using (var alsoShared = FileLock.TryAcquire(path, exclusive: false))
        {
            Assert.NotNull(alsoShared);
            Assert.Null(FileLock.TryAcquire(path, exclusive: true));
        }
        using (var exclusive = FileLock.Acquire(path, exclusive: true))
        {
            Assert.Null(FileLock.TryAcquire(path, exclusive: false));
            using var soon = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            Assert.ThrowsAny<OperationCanceledException>(() => FileLock.Acquire(path, exclusive: true, soon.Token));
        }
        using var again = FileLock.TryAcquire(path, exclusive: true);
        Assert.NotNull(again);
    }

    /// <summary>Gives <c>length</c> bytes of 0x2a, then throws <c>error</c> (or ends, if null).</summary>
    private sealed class FailingStream(long length, Exception? error) : Stream
    {
        private long _given;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_given >= length)
                return error is null ? 0 : throw error;
            int n = (int)Math.Min(count, length - _given);
            buffer.AsSpan(offset, n).Fill(0x2a);
            _given += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _given; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
