namespace Sandbox.Cgroups;

/// <summary>
/// Sandbox cgroups made ahead of time, so that a launch takes a ready one instead of paying for the mkdirs and limit
/// writes on its critical path (on v1 a mkdir per hierarchy, about 60 µs each here, and 20–50 µs per limit file). They
/// are made with the default limits (<see cref="DefaultLimits"/>) and with the limits the latest launches asked for more
/// than once (<see cref="MaxTemplates"/> sets at most, least recently used dropped): a host that runs the same limits again and
/// again, as a judge does, finds its cgroups ready with every limit in place. A launch whose limits have no ready
/// cgroup takes a default one and has the driver write its limits into it (<see cref="ICgroupDriver.TryApply"/>).
/// Each cgroup serves exactly one sandbox and is never joined before, so it is as fresh as one made at launch.
/// </summary>
/// <remarks>
/// A thread of its own makes them, between launches (<see cref="Launch.LaunchActivity"/>), whenever a set has fewer than <see cref="CapacityPerTemplate"/>
/// ready, starting with the first <see cref="TryTake"/> (a host that never launches makes none). The first failure
/// switches the pool off for good (<see cref="DisabledBecause"/>): launches then create their own and report that
/// failure themselves. <see cref="Dispose"/> removes the ready ones; a host that dies with some leaves them to the next
/// host's stale sweep. Limits with I/O device limits are never made ahead of time.
/// </remarks>
internal sealed class PreparedCgroups : IDisposable
{
    /// <summary>How long the maker waits for a moment without a launch in flight before it goes ahead anyway.</summary>
    private static readonly TimeSpan QuietWait = TimeSpan.FromMilliseconds(50);

    /// <summary>How many limit sets besides the default ones are kept ready.</summary>
    public const int MaxTemplates = 2;

    /// <summary>
    /// How many of the latest launches a set of limits must appear in twice to be kept ready: a host that repeats its
    /// limits (or alternates two sets) gets them ready, one whose limits keep changing does not churn cgroups for nothing.
    /// </summary>
    public const int RecentLaunches = 4;

    private static readonly IReadOnlyList<IoDeviceLimit> NoIo = [];

    private readonly ICgroupDriver _driver;
    private readonly Func<string> _nextId;
    private readonly Launch.LaunchActivity _launches;
    private readonly Dictionary<CgroupLimits, Queue<ISandboxCgroup>> _ready = [];
    private readonly List<CgroupLimits> _templates = []; // most recently used first, without the default
    private readonly List<ISandboxCgroup> _retired = []; // ready cgroups of sets pushed out: the maker removes them
    private readonly Queue<CgroupLimits?> _recent = new(); // the limits of the latest launches (null: never made ahead)
    private readonly object _gate = new();
    private Thread? _maker;
    private bool _disposed;

    public PreparedCgroups(ICgroupDriver driver, CgroupLimits defaultLimits, Func<string> nextId, Launch.LaunchActivity launches, int capacityPerTemplate = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityPerTemplate, 1);
        _driver = driver;
        DefaultLimits = Normalize(defaultLimits)!;
        _nextId = nextId;
        _launches = launches;
        CapacityPerTemplate = capacityPerTemplate;
        _ready[DefaultLimits] = new Queue<ISandboxCgroup>();
    }

    /// <summary>The limits of a sandbox that asks for none; cgroups with them are always kept ready.</summary>
    public CgroupLimits DefaultLimits { get; }

    /// <summary>How many cgroups are kept ready for each set of limits.</summary>
    public int CapacityPerTemplate { get; }

    /// <summary>Why the pool stopped making cgroups, or null while it works.</summary>
    public string? DisabledBecause { get; private set; }

    /// <summary>How many cgroups of sets pushed out still wait for the maker to remove them.</summary>
    public int RetiredCount
    {
        get { lock (_gate) return _retired.Count; }
    }

    /// <summary>How many are ready now, all sets together.</summary>
    public int ReadyCount
    {
        get { lock (_gate) return _ready.Values.Sum(q => q.Count); }
    }

    /// <summary>The names of the ready cgroups (the same in every v1 hierarchy).</summary>
    public IReadOnlyList<string> ReadyNames
    {
        get { lock (_gate) return [.. _ready.Values.SelectMany(q => q).Select(c => c.Name)]; }
    }

    /// <summary>The limit sets kept ready besides the default one, most recently used first.</summary>
    public IReadOnlyList<CgroupLimits> Templates
    {
        get { lock (_gate) return [.. _templates]; }
    }

    /// <summary>
    /// A ready cgroup for one sandbox with <paramref name="limits"/> (the caller owns it): one made with exactly those
    /// limits (<paramref name="exact"/> true), else one made with the default limits, else null. Limits asked for
    /// again within the latest <see cref="RecentLaunches"/> launches become a set kept ready. Never waits.
    /// </summary>
    public ISandboxCgroup? TryTake(CgroupLimits limits, out bool exact)
    {
        exact = false;
        var key = Normalize(limits);
        ISandboxCgroup? taken = null;
        lock (_gate)
        {
            if (_disposed || DisabledBecause is not null)
                return null;
            StartMaker();
            bool repeated = key is not null && key != DefaultLimits && (_templates.Contains(key) || _recent.Contains(key));
            _recent.Enqueue(key);
            if (_recent.Count > RecentLaunches)
                _recent.Dequeue();
            if (repeated)
                _retired.AddRange(Remember(key!)); // removed by the maker, off the launch's path
            if (key is not null && _ready.TryGetValue(key, out var same) && same.TryDequeue(out taken))
                exact = true;
            else if (_ready[DefaultLimits].TryDequeue(out taken))
                exact = key == DefaultLimits;
            Monitor.PulseAll(_gate);
        }
        return taken;
    }

    /// <summary>Fills the pool (warm-up) and waits until every set is full or the pool is off, up to <paramref name="timeout"/>.</summary>
    public bool WaitUntilFull(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            if (!_disposed)
                StartMaker();
            while ((NextToMake() is not null || _retired.Count > 0) && DisabledBecause is null && !_disposed)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                    return false;
                Monitor.Wait(_gate, left);
            }
            return NextToMake() is null && _retired.Count == 0 && DisabledBecause is null && !_disposed;
        }
    }

    /// <summary>Stops making cgroups and removes the ready ones.</summary>
    public void Dispose()
    {
        List<ISandboxCgroup> ready;
        lock (_gate)
        {
            _disposed = true;
            ready = [.. _ready.Values.SelectMany(q => q), .. _retired];
            foreach (var queue in _ready.Values)
                queue.Clear();
            _retired.Clear();
            Monitor.PulseAll(_gate);
        }
        foreach (var cgroup in ready)
            Remove(cgroup);
    }

    /// <summary>Limits as a key of the pool (equal limits, equal keys), or null for limits never made ahead of time.</summary>
    private static CgroupLimits? Normalize(CgroupLimits limits) => limits.Io.Count == 0 ? limits with { Io = NoIo } : null;

    /// <summary>Makes <paramref name="key"/> the most recently used set; returns the ready cgroups of a set it pushes out.</summary>
    private List<ISandboxCgroup> Remember(CgroupLimits key)
    {
        _templates.Remove(key);
        _templates.Insert(0, key);
        _ready.TryAdd(key, new Queue<ISandboxCgroup>());
        List<ISandboxCgroup> dropped = [];
        while (_templates.Count > MaxTemplates)
        {
            var oldest = _templates[^1];
            _templates.RemoveAt(_templates.Count - 1);
            dropped.AddRange(_ready[oldest]);
            _ready.Remove(oldest);
        }
        return dropped;
    }

    /// <summary>The set with the fewest ready cgroups below capacity (the default first on a tie), or null when all are full.</summary>
    private CgroupLimits? NextToMake()
    {
        CgroupLimits? next = null;
        int fewest = CapacityPerTemplate;
        foreach (var key in _templates.Prepend(DefaultLimits))
        {
            int count = _ready[key].Count;
            if (count < fewest)
            {
                fewest = count;
                next = key;
            }
        }
        return next;
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
        // Normal priority, but only between launches: a mkdir or rmdir holds the kernel's cgroup lock, which a launch's
        // child needs to join its cgroups. (At idle priority the thread could hold that lock without getting the CPU to
        // let go of it: measured, launches with limits then took 0.4-0.8 ms longer.) An empty pool only means launches
        // make their own.
        while (true)
        {
            CgroupLimits? limits;
            List<ISandboxCgroup> retired;
            lock (_gate)
            {
                while (!_disposed && _retired.Count == 0 && NextToMake() is null)
                    Monitor.Wait(_gate);
                if (_disposed)
                    return;
                retired = [.. _retired];
                _retired.Clear();
                limits = NextToMake();
            }
            foreach (var old in retired)
            {
                _launches.WaitUntilQuiet(QuietWait);
                Remove(old);
            }
            if (limits is null)
                continue;
            _launches.WaitUntilQuiet(QuietWait);

            ISandboxCgroup cgroup;
            try
            {
                cgroup = _driver.Create(_nextId(), limits);
                cgroup.KeepAccountingFilesOpen();
                cgroup.OpenJoinFiles();
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
                if (!_disposed && _ready.TryGetValue(limits, out var queue))
                {
                    queue.Enqueue(cgroup);
                    Monitor.PulseAll(_gate);
                    continue;
                }
            }
            Remove(cgroup); // its set was pushed out meanwhile, or the pool is gone
            lock (_gate)
            {
                if (_disposed)
                    return;
            }
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
