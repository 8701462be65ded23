using System.Collections.Concurrent;
using Sandbox.Interop;

namespace Sandbox.Launch;

/// <summary>
/// The one long-lived thread that calls the native launcher. A sandbox's init gets PR_SET_PDEATHSIG, which
/// fires when the thread that cloned it exits: cloning from a thread that never exits (rather than a
/// thread-pool thread that may retire) keeps sandboxes alive exactly as long as the host process.
/// </summary>
internal sealed class LauncherThread
{
    private readonly BlockingCollection<Request> _requests = new();
    private readonly ISyscalls _syscalls;

    public LauncherThread(ISyscalls syscalls)
    {
        _syscalls = syscalls;
        var thread = new Thread(Run) { IsBackground = true, Name = "Sandbox launcher" };
        thread.Start();
    }

    /// <summary>Runs a serialized plan on the launcher thread.</summary>
    public Task<NativeLaunchResult> LaunchAsync(byte[] plan)
    {
        var request = new Request(plan, new TaskCompletionSource<NativeLaunchResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        _requests.Add(request);
        return request.Completion.Task;
    }

    private void Run()
    {
        foreach (var request in _requests.GetConsumingEnumerable())
        {
            try
            {
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
