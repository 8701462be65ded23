using Sandbox.Interop;

namespace Sandbox.Launch;

/// <summary>
/// The one long-lived thread that calls the native launcher. A sandbox's init gets PR_SET_PDEATHSIG, which
/// fires when the thread that cloned it exits: cloning from a thread that never exits (rather than a
/// thread-pool thread that may retire) keeps sandboxes alive exactly as long as the host process.
/// </summary>
internal sealed class LauncherThread
{
    // A plain monitor queue: BlockingCollection spins (sched_yield) before it blocks, which on a small
    // machine competes with the very sandbox being launched.
    private readonly Queue<Request> _requests = new();
    private readonly object _gate = new();
    private readonly ISyscalls _syscalls;
    private readonly Action? _prepare;

    /// <param name="syscalls">The kernel.</param>
    /// <param name="prepare">Run first on the new thread (tests: a seccomp filter that only this thread has).</param>
    public LauncherThread(ISyscalls syscalls, Action? prepare = null)
    {
        _syscalls = syscalls;
        _prepare = prepare;
        var thread = new Thread(Run) { IsBackground = true, Name = "Sandbox launcher" };
        thread.Start();
    }

    /// <summary>Runs a serialized plan on the launcher thread.</summary>
    public Task<NativeLaunchResult> LaunchAsync(byte[] plan)
    {
        var request = new Request(plan, new TaskCompletionSource<NativeLaunchResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_gate)
        {
            _requests.Enqueue(request);
            Monitor.Pulse(_gate);
        }
        return request.Completion.Task;
    }

    private void Run()
    {
        Exception? unprepared = null;
        try
        {
            _prepare?.Invoke();
        }
        catch (Exception e)
        {
            unprepared = e; // every launch fails with it, rather than waiting for a thread that is gone
        }
        while (true)
        {
            Request request;
            lock (_gate)
            {
                while (_requests.Count == 0)
                    Monitor.Wait(_gate);
                request = _requests.Dequeue();
            }
            try
            {
                if (unprepared is not null)
                    request.Completion.SetException(unprepared);
                else
                    request.Completion.SetResult(_syscalls.Launch(request.Plan));
            }
            catch (Exception e)
            {
                request.Completion.SetException(e);
            }
        }
    }

    private sealed record Request(byte[] Plan, TaskCompletionSource<NativeLaunchResult> Completion);
}
