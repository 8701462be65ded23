using System.Diagnostics;

namespace Sandbox.Launch;

/// <summary>
/// One dedicated thread that fires callbacks at monotonic (<see cref="Stopwatch"/>) deadlines: the wall-time
/// kill and the CPU-time polls of every sandbox. Not the thread pool — a host that keeps its pool busy must
/// not delay a kill — and never early: a deadline fires only once the clock has passed it.
/// </summary>
internal sealed class LimitClock
{
    public static readonly LimitClock Shared = new();

    private readonly PriorityQueue<Entry, long> _queue = new();
    private readonly object _gate = new(); // Monitor.Wait/Pulse need a monitor, not a System.Threading.Lock

    private LimitClock()
    {
        new Thread(Run) { IsBackground = true, Name = "Sandbox limit clock" }.Start();
    }

    /// <summary>Runs <paramref name="callback"/> on the clock's thread once <paramref name="dueTimestamp"/> has passed; dispose to cancel.</summary>
    public IDisposable At(long dueTimestamp, Action callback)
    {
        var entry = new Entry(callback);
        lock (_gate)
        {
            _queue.Enqueue(entry, dueTimestamp);
            Monitor.PulseAll(_gate);
        }
        return entry;
    }

    /// <summary>Runs <paramref name="callback"/> every <paramref name="interval"/> until it returns false or the handle is disposed.</summary>
    public IDisposable Every(TimeSpan interval, Func<bool> callback)
    {
        var repeating = new Repeating();
        long ticks = (long)(interval.TotalSeconds * Stopwatch.Frequency);
        void Tick(long due)
        {
            if (repeating.Cancelled || !callback()) return;
            long next = due + ticks;
            repeating.Current = At(next, () => Tick(next));
        }
        long first = Stopwatch.GetTimestamp() + ticks;
        repeating.Current = At(first, () => Tick(first));
        return repeating;
    }

    private void Run()
    {
        while (true)
        {
            Entry? due = null;
            lock (_gate)
            {
                while (due is null)
                {
                    if (!_queue.TryPeek(out var next, out long at))
                    {
                        Monitor.Wait(_gate);
                        continue;
                    }
                    long now = Stopwatch.GetTimestamp();
                    if (at <= now)
                    {
                        due = _queue.Dequeue();
                        break;
                    }
                    int waitMs = (int)Math.Min(int.MaxValue, Math.Ceiling((at - now) * 1000.0 / Stopwatch.Frequency));
                    Monitor.Wait(_gate, Math.Max(1, waitMs));
                }
            }
            if (due.Cancelled) continue;
            try
            {
                due.Callback();
            }
            catch (Exception)
            {
                // A limit callback only signals or reads cgroup files; its failure must not stop the clock.
            }
        }
    }

    private sealed class Entry(Action callback) : IDisposable
    {
        public Action Callback { get; } = callback;

        public volatile bool Cancelled;

        public void Dispose() => Cancelled = true;
    }

    private sealed class Repeating : IDisposable
    {
        public volatile bool Cancelled;

        public IDisposable? Current { get; set; }

        public void Dispose()
        {
            Cancelled = true;
            Current?.Dispose();
        }
    }
}
