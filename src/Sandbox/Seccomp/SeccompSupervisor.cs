using System.Collections.Immutable;
using Microsoft.Win32.SafeHandles;
using Sandbox.Interop;

namespace Sandbox.Seccomp;

/// <summary>
/// The host's side of <see cref="SeccompAction.UserNotify"/>: receives the filter's listener from the sandbox's init
/// (over a unix socket, once the program has exec'd), then takes each notified call off the listener on a thread of
/// its own and answers it with what the user's callback decides — asynchronously, so a slow decision holds up only
/// the call it is about. It ends by itself when no process of the sandbox is left to notify, or when disposed.
/// </summary>
internal sealed class SeccompSupervisor : IDisposable
{
    private const int PollMs = 100;
    private const int EPERM = 1;

    private readonly SafeFileHandle _socket;
    private readonly Func<SeccompNotification, CancellationToken, ValueTask<SeccompNotificationResponse>> _decide;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pending = [];

    private SeccompSupervisor(SafeFileHandle socket, Func<SeccompNotification, CancellationToken, ValueTask<SeccompNotificationResponse>> decide)
    {
        _socket = socket;
        _decide = decide;
    }

    /// <summary>How many calls were answered (for the result and for tests).</summary>
    public int Answered => Volatile.Read(ref _answered);

    private int _answered;

    /// <summary>Starts supervising the sandbox whose init holds the other end of <paramref name="socket"/>.</summary>
    public static SeccompSupervisor Start(SafeFileHandle socket, Func<SeccompNotification, CancellationToken, ValueTask<SeccompNotificationResponse>> decide)
    {
        var supervisor = new SeccompSupervisor(socket, decide);
        new Thread(supervisor.Run) { IsBackground = true, Name = "Sandbox seccomp supervisor" }.Start();
        return supervisor;
    }

    public void Dispose() => _stop.Cancel();

    private void Run()
    {
        SafeFileHandle? listener = null;
        try
        {
            listener = ReceiveListener();
            if (listener is null)
                return;
            while (!_stop.IsCancellationRequested)
            {
                int ready = SeccompListenerCalls.WaitReadable((int)listener.DangerousGetHandle(), PollMs);
                if (ready < 0) break;  // no process left that the filter could stop
                if (ready == 0) continue;
                if (SeccompListenerCalls.Receive(listener, out var record) != 0)
                    continue;  // ENOENT: the caller died (or was killed) before it could be received
                lock (_pending)
                {
                    _pending.RemoveAll(t => t.IsCompleted);
                    _pending.Add(AnswerAsync(listener, ToNotification(listener, record)));
                }
            }
        }
        finally
        {
            Task[] pending;
            lock (_pending) pending = [.. _pending];
            Task.WaitAll(pending);
            listener?.Dispose();
            _socket.Dispose();
        }
    }

    private SafeFileHandle? ReceiveListener()
    {
        while (!_stop.IsCancellationRequested)
        {
            int ready = SeccompListenerCalls.WaitReadable((int)_socket.DangerousGetHandle(), PollMs);
            if (ready == 0) continue;
            return ready > 0 ? SeccompListenerCalls.ReceiveFd(_socket) : null;
        }
        return null;
    }

    private static unsafe SeccompNotification ToNotification(SafeFileHandle listener, SeccompListenerCalls.NotificationRecord record)
    {
        var arguments = ImmutableArray.Create(record.Args[0], record.Args[1], record.Args[2], record.Args[3], record.Args[4], record.Args[5]);
        return new SeccompNotification(listener, record.Id, (int)record.Pid, (SeccompArchitecture)record.Arch, record.Nr, record.InstructionPointer, arguments);
    }

    private async Task AnswerAsync(SafeFileHandle listener, SeccompNotification notification)
    {
        SeccompNotificationResponse response;
        try
        {
            response = await _decide(notification, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A callback that fails decides nothing: the call is refused rather than let through.
            response = SeccompNotificationResponse.Fail(EPERM);
        }
        var record = new SeccompListenerCalls.ResponseRecord
        {
            Id = notification.Id,
            Value = response.Value,
            Error = response.Errno == 0 ? 0 : -response.Errno,
            Flags = response.ContinueCall ? 1u : 0u,  // SECCOMP_USER_NOTIF_FLAG_CONTINUE
        };
        // ENOENT: the caller is gone (killed meanwhile); nothing to answer.
        SeccompListenerCalls.Send(listener, record);
        Interlocked.Increment(ref _answered);
    }
}
