using System.Runtime.InteropServices;

namespace Sandbox.Namespaces;

/// <summary>
/// Closes the host's handles on dead sandboxes' mount namespaces on a thread of its own. The launcher takes
/// such a handle for every sandbox with a mount namespace, so the namespace outlives the sandbox's init: the
/// kernel then unmounts the sandbox's tree — and waits out the RCU grace period that follows — when this thread
/// closes the handle, instead of inside init's exit, where it delays the moment the host sees the exit (measured
/// here: exit to wait 218 µs median and 1.5 ms p90 with 40 mounts, 67 µs and 87 µs with the namespace held).
/// </summary>
/// <remarks>
/// A held namespace keeps the sandbox's tmpfs contents (its /tmp, its writable layer) in memory until it is
/// closed, so the backlog is small: past <see cref="MaxBacklog"/> pending handles, <see cref="Release"/> closes
/// the handle on the caller's thread. The thread runs at normal priority, so a busy host drains it too.
/// </remarks>
internal sealed class DeferredNamespaceRelease
{
    /// <summary>How many handles may wait for the thread before <see cref="Release"/> closes them itself.</summary>
    public const int MaxBacklog = 8;

    private readonly Queue<SafeHandle> _pending = new();
    private readonly object _gate = new();
    private Thread? _closer;
    private int _closing;

    /// <summary>How many handles are waiting or being closed.</summary>
    public int Outstanding
    {
        get { lock (_gate) return _pending.Count + _closing; }
    }

    /// <summary>How many handles are waiting for the thread (not counting one being closed).</summary>
    public int PendingCount
    {
        get { lock (_gate) return _pending.Count; }
    }

    /// <summary>Closes <paramref name="handle"/> soon, on the release thread (or now, when the backlog is full).</summary>
    public void Release(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        lock (_gate)
        {
            if (_pending.Count < MaxBacklog)
            {
                _pending.Enqueue(handle);
                if (_closer is null)
                {
                    _closer = new Thread(CloseLoop) { IsBackground = true, Name = "Sandbox namespace release" };
                    _closer.Start();
                }
                else
                {
                    Monitor.Pulse(_gate);
                }
                return;
            }
        }
        handle.Dispose();
    }

    /// <summary>Waits until every handle given so far is closed, up to <paramref name="timeout"/>; false when time ran out.</summary>
    public bool WaitUntilIdle(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Outstanding > 0)
        {
            if (DateTime.UtcNow >= deadline) return false;
            Thread.Sleep(1);
        }
        return true;
    }

    private void CloseLoop()
    {
        while (true)
        {
            SafeHandle next;
            lock (_gate)
            {
                while (_pending.Count == 0)
                    Monitor.Wait(_gate);
                next = _pending.Dequeue();
                _closing = 1;
            }
            next.Dispose();
            lock (_gate) _closing = 0;
        }
    }
}
