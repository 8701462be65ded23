using System.Buffers;

namespace Sandbox;

/// <summary>
/// Reads one of a sandbox's output streams to its end, counting every byte against the output limit: captures up to
/// the limit, or forwards up to the limit to another stream. Past the limit the rest is read and counted but dropped,
/// and <c>exceeded</c> is called (the runner kills the sandbox there when asked to), so exactly the limit is kept.
/// </summary>
internal static class OutputPump
{
    private const int BufferSize = 64 * 1024;

    /// <summary>Keeps the first <paramref name="limit"/> bytes of <paramref name="source"/> in memory.</summary>
    /// <param name="source">The sandbox's end of the pipe, read to its end.</param>
    /// <param name="limit">How many bytes to keep.</param>
    /// <param name="exceeded">Called once the program has written more than <paramref name="limit"/> (then on every further read).</param>
    public static async Task<CapturedOutput> CaptureAsync(Stream source, long limit, Action? exceeded)
    {
        var kept = new MemoryStream();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0;
        try
        {
            int n;
            while ((n = await source.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                int take = Take(limit, kept.Length, n);
                if (take > 0) kept.Write(buffer, 0, take);
                total += n;
                if (total > limit) exceeded?.Invoke();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return new CapturedOutput(kept.GetBuffer().AsMemory(0, (int)kept.Length), total);
    }

    /// <summary>
    /// Writes the first <paramref name="limit"/> bytes of <paramref name="source"/> to <paramref name="target"/> as they
    /// arrive (flushed after each read, so a terminal sees output as the program writes it). If the target stops taking
    /// bytes (IOException: a closed pipe), the source is closed as well: the program then gets EPIPE, as it would writing
    /// to that pipe itself.
    /// </summary>
    /// <param name="source">The sandbox's end of the pipe, read to its end.</param>
    /// <param name="target">Receives the bytes; not disposed.</param>
    /// <param name="limit">How many bytes to pass on.</param>
    /// <param name="exceeded">Called once the program has written more than <paramref name="limit"/> (then on every further read).</param>
    /// <param name="targetGate">Held around each write when another pump writes to the same target (stdout and stderr to one stream).</param>
    public static async Task<CapturedOutput> ForwardAsync(Stream source, Stream target, long limit, Action? exceeded, SemaphoreSlim? targetGate = null)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0, written = 0;
        try
        {
            int n;
            while ((n = await source.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                int take = Take(limit, written, n);
                total += n;
                if (take > 0)
                {
                    if (targetGate is not null) await targetGate.WaitAsync().ConfigureAwait(false);
                    try
                    {
                        await target.WriteAsync(buffer.AsMemory(0, take)).ConfigureAwait(false);
                        await target.FlushAsync().ConfigureAwait(false);
                        written += take;
                    }
                    catch (IOException)
                    {
                        await source.DisposeAsync().ConfigureAwait(false);
                        break;
                    }
                    finally
                    {
                        targetGate?.Release();
                    }
                }
                if (total > limit) exceeded?.Invoke();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return new CapturedOutput(ReadOnlyMemory<byte>.Empty, total) { ForwardedBytes = written };
    }

    /// <summary>How many of <paramref name="read"/> new bytes fit under <paramref name="limit"/> after <paramref name="kept"/>.</summary>
    internal static int Take(long limit, long kept, int read) => (int)Math.Clamp(limit - kept, 0, read);
}
