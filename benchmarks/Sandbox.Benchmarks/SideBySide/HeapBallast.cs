namespace Sandbox.Benchmarks.SideBySide;

/// <summary>
/// A big live managed heap: 1 MiB byte[] chunks (on the large object heap), every 4 KiB page written so
/// it is resident, all kept reachable until released.
/// </summary>
internal sealed class HeapBallast
{
    private const int ChunkBytes = 1 << 20;
    private const int PageBytes = 4096;

    private byte[][] _chunks = [];

    public long Bytes => (long)_chunks.Length * ChunkBytes;

    public void Allocate(double gib)
    {
        int count = (int)Math.Round(gib * 1024);
        var chunks = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            var chunk = new byte[ChunkBytes];
            for (int offset = 0; offset < chunk.Length; offset += PageBytes)
                chunk[offset] = (byte)(i + offset / PageBytes | 1);
            chunks[i] = chunk;
        }
        _chunks = chunks;
    }

    /// <summary>Reads a byte of every page, so that the pages are still there (and still ours) after the measurement.</summary>
    public long Touch()
    {
        long sum = 0;
        foreach (var chunk in _chunks)
            for (int offset = 0; offset < chunk.Length; offset += PageBytes)
                sum += chunk[offset];
        return sum;
    }

    public void Release() => _chunks = [];
}
