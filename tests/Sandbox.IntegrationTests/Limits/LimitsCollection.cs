using System.Diagnostics;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests.Limits;

/// <summary>
/// The limits and accounting tests run alone, after every other test class: they measure CPU time and wall time
/// against tight bounds, and they look for leftover cgroups of this test process, which a sandbox of a test
/// running in parallel would be.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LimitsCollection : ICollectionFixture<SteadySandboxHost>
{
    public const string Name = "Limits and accounting";
}

/// <summary>
/// Brings the test host to the steady state a sandbox host runs in before the first measurement: enough
/// thread-pool workers, the sandbox path JIT-compiled and the cgroup layout detected, and a thread pool that runs a
/// 10 ms timer on time.
/// </summary>
/// <remarks>
/// The CPU-time poll and the wall-time timer are thread-pool timers. The test platform keeps thread-pool workers
/// blocked (one sits in poll() on its socket for the whole run), and the pool adds a worker only after about
/// 0.5 s of starvation: measured here, a 10 ms timer then fired 560–930 ms late, and a 1 s CPU-time limit on four
/// busy threads was enforced at 1.06–2.3 s of CPU, every time the pool had 4 workers or fewer; never with 5 or more.
/// A host that blocks pool threads must raise the minimum the same way.
/// </remarks>
public sealed class SteadySandboxHost : IAsyncLifetime
{
    private const int MinimumWorkers = 16;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan LateBy = TimeSpan.FromMilliseconds(20);
    private const int OnTimeInARow = 30;

    public async Task InitializeAsync()
    {
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, MinimumWorkers), io);
        for (int i = 0; i < 2; i++)
        {
            await Probe.Command("spin-threads", "4").WithCpuTimeLimit(TimeSpan.FromMilliseconds(200)).WithMemoryLimit(64 << 20).RunAsync();
            await Probe.Command("touch", "1").WithProcessLimit(16).RunAsync();
        }
        await ThreadPoolRunsTimersOnTimeAsync(TimeSpan.FromSeconds(10));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task ThreadPoolRunsTimersOnTimeAsync(TimeSpan atMost)
    {
        var deadline = Stopwatch.StartNew();
        int onTime = 0;
        long last = Stopwatch.GetTimestamp();
        var settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var timer = new Timer(_ =>
        {
            long now = Stopwatch.GetTimestamp();
            bool late = Stopwatch.GetElapsedTime(Interlocked.Exchange(ref last, now), now) > Tick + LateBy;
            if ((onTime = late ? 0 : onTime + 1) >= OnTimeInARow || deadline.Elapsed > atMost)
                settled.TrySetResult();
        }, null, Tick, Tick);
        await settled.Task;
    }
}
