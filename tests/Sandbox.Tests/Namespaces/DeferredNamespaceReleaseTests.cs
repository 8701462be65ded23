using System.Runtime.InteropServices;
using Sandbox.Namespaces;

namespace Sandbox.Tests.Namespaces;

public sealed class DeferredNamespaceReleaseTests
{
    /// <summary>A handle whose release waits for a gate, and which records the thread that released it.</summary>
    private sealed class GatedHandle(ManualResetEventSlim? gate = null) : SafeHandle(1, ownsHandle: true)
    {
        public int ReleasedOnThread { get; private set; }

        public override bool IsInvalid => false;

        protected override bool ReleaseHandle()
        {
            gate?.Wait(TimeSpan.FromSeconds(30));
            ReleasedOnThread = Environment.CurrentManagedThreadId;
            return true;
        }
    }

    [Fact]
    public void Released_handles_are_closed_on_the_release_thread_not_the_callers()
    {
        var release = new DeferredNamespaceRelease();
        var handles = Enumerable.Range(0, 5).Select(_ => new GatedHandle()).ToList();

        foreach (var handle in handles)
            release.Release(handle);

        Assert.True(release.WaitUntilIdle(TimeSpan.FromSeconds(10)));
        Assert.All(handles, h => Assert.True(h.IsClosed));
        Assert.All(handles, h => Assert.NotEqual(Environment.CurrentManagedThreadId, h.ReleasedOnThread));
    }

    [Fact]
    public void Past_the_backlog_the_caller_closes_the_handle_itself()
    {
        var release = new DeferredNamespaceRelease();
        using var gate = new ManualResetEventSlim();
        var blocking = new GatedHandle(gate);
        release.Release(blocking);
        while (!IsBeingClosed(release)) Thread.Sleep(1);
        var queued = Enumerable.Range(0, DeferredNamespaceRelease.MaxBacklog).Select(_ => new GatedHandle()).ToList();
        foreach (var handle in queued)
            release.Release(handle);
        var overflow = new GatedHandle();

        release.Release(overflow);

        Assert.True(overflow.IsClosed);
        Assert.Equal(Environment.CurrentManagedThreadId, overflow.ReleasedOnThread);
        Assert.All(queued, h => Assert.False(h.IsClosed));
        gate.Set();
        Assert.True(release.WaitUntilIdle(TimeSpan.FromSeconds(10)));
        Assert.All(queued, h => Assert.True(h.IsClosed));
    }

    /// <summary>True once the release thread has taken the first handle off the queue (it is closing it).</summary>
    private static bool IsBeingClosed(DeferredNamespaceRelease release) => release.Outstanding == 1 && release.PendingCount == 0;
}
