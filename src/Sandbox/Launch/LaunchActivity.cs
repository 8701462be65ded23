namespace Sandbox.Launch;

/// <summary>
/// Whether a launch is between its clone and its exec right now, for the work done ahead of time beside launches
/// (cgroups made for later sandboxes): that work waits for a quiet moment, so that it never holds the kernel's cgroup
/// lock while a launch's child writes itself into its cgroups. Thread-safe.
/// </summary>
internal sealed class LaunchActivity
{
    private readonly ManualResetEventSlim _quiet = new(initialState: true);
    private readonly Lock _gate = new();
    private int _inFlight;

    /// <summary>How many launches are in flight.</summary>
    public int InFlight
    {
        get { lock (_gate) return _inFlight; }
    }

    /// <summary>A launch starts; dispose the result when it has ended.</summary>
    public Scope Enter()
    {
        lock (_gate)
        {
            if (_inFlight++ == 0)
                _quiet.Reset();
        }
        return new Scope(this);
    }

    /// <summary>Waits until no launch is in flight, up to <paramref name="timeout"/> (then goes ahead anyway); true if quiet.</summary>
    public bool WaitUntilQuiet(TimeSpan timeout) => _quiet.Wait(timeout);

    private void Exit()
    {
        lock (_gate)
        {
            if (--_inFlight == 0)
                _quiet.Set();
        }
    }

    /// <summary>One launch in flight, until disposed.</summary>
    public readonly struct Scope(LaunchActivity activity) : IDisposable
    {
        public void Dispose() => activity.Exit();
    }
}
