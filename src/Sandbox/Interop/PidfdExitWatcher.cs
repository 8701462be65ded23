using System.Collections.Concurrent;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Sandbox.Interop;

/// <summary>
/// One thread, one epoll set: completes a task when a registered pidfd becomes readable, i.e. when that
/// process has exited. Costs no thread per sandbox and never reaps anything it was not given.
/// </summary>
internal sealed unsafe class PidfdExitWatcher
{
    private readonly int _epoll;
    private readonly ConcurrentDictionary<int, Watch> _waiting = new();

    private sealed record Watch(TaskCompletionSource Completion, Action? OnExit);

    public PidfdExitWatcher()
    {
        _epoll = epoll_create1(EPOLL_CLOEXEC);
        if (_epoll < 0)
            throw Errors.Host("create an epoll instance", errno);
        new Thread(Run) { IsBackground = true, Name = "Sandbox exit watcher" }.Start();
    }

    /// <summary>A task that completes when the process behind <paramref name="process"/> has exited. The handle must stay open until then.</summary>
    /// <param name="process">The process.</param>
    /// <param name="onExit">
    /// Run on this watcher's thread right after the task is completed, while its continuations wait for a thread-pool
    /// thread: short, non-blocking work that the continuations then find done (the runner reaps and reads the accounting
    /// here). Never user code. An exception it throws is dropped: the continuations do the work again and report it.
    /// </param>
    public Task WhenExited(PidfdHandle process, Action? onExit = null)
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int fd = process.Fd;
        if (!_waiting.TryAdd(fd, new Watch(completion, onExit)))
            throw new InvalidOperationException($"pidfd {fd} is already being watched.");
        epoll_event ev = default;
        ev.events = EPOLLIN | EPOLLONESHOT;
        ev.data.fd = fd;
        if (epoll_ctl(_epoll, EPOLL_CTL_ADD, fd, &ev) != 0)
        {
            int err = errno;
            _waiting.TryRemove(fd, out _);
            throw Errors.Host("watch the sandbox's pidfd", err);
        }
        return completion.Task;
    }

    private void Run()
    {
        const int capacity = 32;
        epoll_event* events = stackalloc epoll_event[capacity];
        while (true)
        {
            int n = epoll_wait(_epoll, events, capacity, -1);
            if (n < 0)
            {
                if (errno == EINTR) continue;
                FailAll(Errors.Host("wait on the epoll instance", errno));
                return;
            }
            for (int i = 0; i < n; i++)
            {
                int fd = events[i].data.fd;
                epoll_ctl(_epoll, EPOLL_CTL_DEL, fd, null);
                if (!_waiting.TryRemove(fd, out var watch))
                    continue;
                watch.Completion.TrySetResult();
                try
                {
                    watch.OnExit?.Invoke();
                }
#pragma warning disable CA1031 // the one thread that sees every sandbox exit must outlive a failure of one sandbox's early work
                catch (Exception)
#pragma warning restore CA1031
                {
                    // Dropped: the continuations do the same work and report what fails.
                }
            }
        }
    }

    private void FailAll(Exception error)
    {
        foreach (var key in _waiting.Keys)
            if (_waiting.TryRemove(key, out var watch))
                watch.Completion.TrySetException(error);
    }
}
