using System.Diagnostics;
using Sandbox.Launch;

namespace Sandbox.Tests.Launch;

public class LimitClockTests
{
    [Fact(Timeout = 10_000)]
    public async Task A_deadline_never_fires_before_the_clock_has_passed_it()
    {
        var fired = new List<(long Due, long At)>();
        var all = new List<Task>();
        for (int i = 0; i < 50; i++)
        {
            long due = Stopwatch.GetTimestamp() + Stopwatch.Frequency * (1 + i % 7) / 1000;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            LimitClock.Shared.At(due, () =>
            {
                lock (fired) fired.Add((due, Stopwatch.GetTimestamp()));
                done.SetResult();
            });
            all.Add(done.Task);
        }

        await Task.WhenAll(all);

        Assert.All(fired, f => Assert.True(f.At >= f.Due, $"fired {(f.Due - f.At) * 1e3 / Stopwatch.Frequency:F3} ms early"));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_cancelled_deadline_does_not_fire()
    {
        bool fired = false;
        var handle = LimitClock.Shared.At(Stopwatch.GetTimestamp() + Stopwatch.Frequency / 50, () => fired = true);
        handle.Dispose();

        await Task.Delay(100);

        Assert.False(fired);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_repeating_callback_runs_until_it_returns_false()
    {
        int calls = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        LimitClock.Shared.Every(TimeSpan.FromMilliseconds(2), () =>
        {
            if (Interlocked.Increment(ref calls) < 5) return true;
            done.SetResult();
            return false;
        });

        await done.Task;
        await Task.Delay(50);

        Assert.Equal(5, Volatile.Read(ref calls));
    }

    [Fact(Timeout = 10_000)]
    public async Task Disposing_a_repeating_callback_stops_it()
    {
        int calls = 0;
        var handle = LimitClock.Shared.Every(TimeSpan.FromMilliseconds(2), () => { Interlocked.Increment(ref calls); return true; });
        await Task.Delay(30);
        handle.Dispose();
        int atStop = Volatile.Read(ref calls);

        await Task.Delay(50);

        Assert.True(atStop > 0);
        Assert.InRange(Volatile.Read(ref calls), atStop, atStop + 1);
    }
}
