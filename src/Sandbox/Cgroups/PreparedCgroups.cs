namespace Sandbox.Cgroups;

/// <summary>
/// Sandbox cgroups made ahead of time with the default limits (<see cref="Limits"/>), so that a launch takes a ready
/// one instead of paying for the mkdirs on its critical path (on v1 one per accounting hierarchy, about 60 µs each
/// here): a sandbox with the default limits uses it as it is, one with other limits has the driver write them into
/// it (<see cref="ICgroupDriver.TryApply"/>), adding hierarchies the limits need. Each cgroup serves exactly one
/// sandbox and is never joined before, so it is as fresh as one made at launch.
/// </summary>
/// <remarks>
/// A thread of its own makes them at idle priority whenever fewer than <see cref="Capacity"/> are ready, starting
/// with the first <see cref="TryTake"/> (a host that never launches makes none). The first failure switches the pool
/// off for good (<see cref="DisabledBecause"/>): launches then create their own and report that failure themselves.
/// <see cref="Dispose"/> removes the ready ones; a host that dies with some leaves them to the next host's stale sweep.
/// </remarks>
internal sealed class PreparedCgroups : IDisposable
{
    private readonly ICgroupDriver _driver;
    private readonly Func<string> _nextId;
    private readonly Action _makeThreadIdle;
    private readonly Queue<ISandboxCgroup> _ready = new();
    private readonly object _gate = new();
    private Thread? _maker;
    private bool _disposed;

    public PreparedCgroups(ICgroupDriver driver, CgroupLimits limits, Func<string> nextId, Action makeThreadIdle, int capacity = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _driver = driver;
        Limits = limits;
        _nextId = nextId;
        _makeThreadIdle = makeThreadIdle;
        Capacity = capacity;
    }

    /// <summary>The limits every prepared cgroup is made with.</summary>
    public CgroupLimits Limits { get; }

    /// <summary>How many cgroups are kept ready.</summary>
    public int Capacity { get; }

    /// <summary>Why the pool stopped making cgroups, or null while it works.</summary>
    public string? DisabledBecause { get; private set; }

    /// <summary>How many are ready now.</summary>
    public int ReadyCount
    {
        get { lock (_gate) return _ready.Count; }
    }

    /// <summary>The names of the ready cgroups (the same in every v1 hierarchy).</summary>
    public IReadOnlyList<string> ReadyNames
    {
        get { lock (_gate) return [.. _ready.Select(c => c.Name)]; }
    }

    /// <summary>A ready cgroup for one sandbox (the caller owns it), or null when none is ready or the pool is off. Never waits.</summary>
    public ISandboxCgroup? TryTake()
    {
        lock (_gate)
        {
            if (_disposed || DisabledBecause is not null)
                return null;
            StartMaker();
            var taken = _ready.TryDequeue(out var cgroup) ? cgroup : null;
            Monitor.PulseAll(_gate);
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

    /// <summary>Stops making cgroups and removes the ready ones.</summary>
    public void Dispose()
    {
        List<ISandboxCgroup> ready;
        lock (_gate)
        {
            _disposed = true;
            ready = [.. _ready];
            _ready.Clear();
            Monitor.PulseAll(_gate);
        }
        foreach (var cgroup in ready)
            Remove(cgroup);
    }

    private void StartMaker()
    {
        if (_maker is not null)
            return;
        _maker = new Thread(MakeCgroups) { IsBackground = true, Name = "Sandbox cgroups" };
        _maker.Start();
    }

    private void MakeCgroups()
    {
        // Idle priority: a mkdir in a cgroup hierarchy must never delay a launch; an empty pool only means launches
        // make their own.
        _makeThreadIdle();
        while (true)
        {
            lock (_gate)
            {
                while (!_disposed && _ready.Count >= Capacity)
                    Monitor.Wait(_gate);
                if (_disposed)
                    return;
            }

            ISandboxCgroup cgroup;
            try
            {
                cgroup = _driver.Create(_nextId(), Limits);
            }
            catch (SandboxException e)
            {
                lock (_gate)
                {
                    DisabledBecause = e.Message;
                    Monitor.PulseAll(_gate);
                }
                return;
            }
            lock (_gate)
            {
                if (!_disposed)
                {
                    _ready.Enqueue(cgroup);
                    Monitor.PulseAll(_gate);
                    continue;
                }
            }
            Remove(cgroup);
            return;
        }
    }

    private static void Remove(ISandboxCgroup cgroup)
    {
        try
        {
            cgroup.RemoveAsync().GetAwaiter().GetResult();
        }
        catch (SandboxException)
        {
            // Nobody ever joined it; what the kernel would not remove now, the next host's stale sweep removes.
        }
    }
}
