using Microsoft.Win32.SafeHandles;
using Sandbox.Interop;

namespace Sandbox.Namespaces;

/// <summary>
/// Network namespaces made ahead of time, each with <c>lo</c> up, so that a launch enters a ready one instead
/// of paying for a new one on its critical path (a new network namespace is the dearest part of a clone: about
/// 0.4 ms of CPU here, and its teardown runs in kernel workers). Each namespace is used by exactly one sandbox
/// and then released, so isolation is the same as creating it in the clone; the difference is its owner, the
/// host's user namespace rather than the sandbox's, which leaves the sandbox with no say over its network
/// configuration at all (it cannot even take <c>lo</c> down).
/// </summary>
/// <remarks>
/// Making one needs CAP_SYS_ADMIN in the host's user namespace, so only a root host gets them; the first
/// refusal switches the pool off for good (<see cref="DisabledBecause"/>) and launches create their own. A
/// dedicated thread makes them, one at a time, whenever fewer than <see cref="Capacity"/> are ready; it enters
/// each new namespace to bring <c>lo</c> up and returns to its own, which is why it is a thread of its own.
/// </remarks>
internal sealed class PreparedNetworkNamespaces : IDisposable
{
    private readonly ISyscalls _syscalls;
    private readonly Queue<SafeFileHandle> _ready = new();
    private readonly object _gate = new();
    private Thread? _maker;
    private bool _disposed;

    public PreparedNetworkNamespaces(ISyscalls syscalls, int capacity = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _syscalls = syscalls;
        Capacity = capacity;
    }

    /// <summary>How many namespaces are kept ready.</summary>
    public int Capacity { get; }

    /// <summary>Why the pool stopped making namespaces (the errno's name and what it means), or null while it works.</summary>
    public string? DisabledBecause { get; private set; }

    /// <summary>How many are ready now.</summary>
    public int ReadyCount
    {
        get { lock (_gate) return _ready.Count; }
    }

    /// <summary>
    /// A ready namespace for one sandbox (the caller owns and closes the handle once the sandbox is cloned), or
    /// null when none is ready or the pool is off: the launch then creates its own. Never waits for one.
    /// </summary>
    public SafeFileHandle? TryTake()
    {
        lock (_gate)
        {
            if (_disposed || DisabledBecause is not null)
                return null;
            StartMaker();
            var taken = _ready.TryDequeue(out var ns) ? ns : null;
            Monitor.Pulse(_gate);
            return taken;
        }
    }

    /// <summary>Fills the pool (warm-up) and waits until it is full or off, up to <paramref name="timeout"/>.</summary>
    public bool WaitUntilFull(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            if (!_disposed)
                StartMaker();
            while (_ready.Count < Capacity && DisabledBecause is null && !_disposed)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                    return false;
                Monitor.Wait(_gate, left);
            }
            return _ready.Count >= Capacity;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            while (_ready.TryDequeue(out var ns))
                ns.Dispose();
            Monitor.PulseAll(_gate);
        }
    }

    private void StartMaker()
    {
        if (_maker is not null)
            return;
        _maker = new Thread(MakeNamespaces) { IsBackground = true, Name = "Sandbox network namespaces" };
        _maker.Start();
    }

    private void MakeNamespaces()
    {
        // Idle priority: making a namespace (~0.4 ms of CPU) must never delay a launch, least of all on a small
        // machine; the pool refills from CPU time nobody else wants, and an empty pool only means launches make
        // their own. Refused (it never is for one's own thread): the thread keeps normal priority.
        _syscalls.MakeCurrentThreadIdle();
        while (true)
        {
            lock (_gate)
            {
                while (!_disposed && _ready.Count >= Capacity)
                    Monitor.Wait(_gate);
                if (_disposed)
                    return;
            }

            var ns = _syscalls.TryCreateNetworkNamespace(out int errno);
            lock (_gate)
            {
                if (ns is null)
                {
                    DisabledBecause = $"{ErrnoNames.Of(errno)} when making a network namespace ahead of time";
                    Monitor.PulseAll(_gate);
                    return;
                }
                if (_disposed)
                {
                    ns.Dispose();
                    return;
                }
                _ready.Enqueue(ns);
                Monitor.PulseAll(_gate);
            }
        }
    }
}
