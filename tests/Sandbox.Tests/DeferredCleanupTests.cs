namespace Sandbox.Tests;

public sealed class DeferredCleanupTests
{
    [Fact]
    public void Deferred_work_runs_on_the_clean_up_thread_not_the_callers()
    {
        var cleanup = new DeferredCleanup();
        var threads = new List<int>();

        for (int i = 0; i < 5; i++)
            Assert.True(cleanup.TryDefer(() => { lock (threads) threads.Add(Environment.CurrentManagedThreadId); }));

        Assert.True(cleanup.WaitUntilIdle(TimeSpan.FromSeconds(10)));
        Assert.Equal(5, threads.Count);
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, threads);
        Assert.Equal(0, cleanup.Outstanding);
    }

    [Fact]
    public void Past_the_backlog_nothing_is_queued_and_the_caller_is_told_to_do_it_itself()
    {
        var cleanup = new DeferredCleanup();
        using var gate = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        int done = 0;
        Assert.True(cleanup.TryDefer(() => { started.Set(); gate.Wait(TimeSpan.FromSeconds(30)); }));
        Assert.True(started.Wait(TimeSpan.FromSeconds(10)));
        for (int i = 0; i < DeferredCleanup.MaxBacklog; i++)
            Assert.True(cleanup.TryDefer(() => Interlocked.Increment(ref done)));

        bool queued = cleanup.TryDefer(() => Interlocked.Increment(ref done));

        Assert.False(queued);
        Assert.Equal(DeferredCleanup.MaxBacklog, cleanup.PendingCount);
        Assert.False(cleanup.WaitUntilIdle(TimeSpan.FromMilliseconds(50)));
        gate.Set();
        Assert.True(cleanup.WaitUntilIdle(TimeSpan.FromSeconds(10)));
        Assert.Equal(DeferredCleanup.MaxBacklog, done);
    }

    [Fact]
    public void A_failing_clean_up_does_not_stop_the_ones_after_it()
    {
        var cleanup = new DeferredCleanup();
        bool after = false;

        cleanup.TryDefer(() => throw new global::Sandbox.Cgroups.CgroupException("remove the cgroup", "/sys/fs/cgroup/pids/x", 16, "wait"));
        cleanup.TryDefer(() => after = true);

        Assert.True(cleanup.WaitUntilIdle(TimeSpan.FromSeconds(10)));
        Assert.True(after);
    }
}
