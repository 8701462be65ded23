namespace Sandbox.Seccomp;

/// <summary>The supervisor's answer to a <see cref="SeccompNotification"/>.</summary>
public sealed record SeccompNotificationResponse
{
    private SeccompNotificationResponse(int errno, long value, bool continueCall)
    {
        Errno = errno;
        Value = value;
        ContinueCall = continueCall;
    }

    /// <summary>The errno the call fails with (0: it does not fail).</summary>
    public int Errno { get; }

    /// <summary>The value the call returns when it neither fails nor continues.</summary>
    public long Value { get; }

    /// <summary>Whether the kernel carries out the call as made.</summary>
    public bool ContinueCall { get; }

    /// <summary>The kernel carries out the call as made (SECCOMP_USER_NOTIF_FLAG_CONTINUE).</summary>
    public static SeccompNotificationResponse Continue { get; } = new(0, 0, true);

    /// <summary>The call fails with <paramref name="errno"/> (e.g. EPERM = 1, ECONNREFUSED = 111) without being made.</summary>
    public static SeccompNotificationResponse Fail(int errno)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(errno);
        return new(errno, 0, false);
    }

    /// <summary>The call returns <paramref name="value"/> without being made (the supervisor did its work).</summary>
    public static SeccompNotificationResponse Return(long value) => new(0, value, false);
}
