using Microsoft.Win32.SafeHandles;
using static Sandbox.Interop.FileSystemCalls;

namespace Sandbox.Interop;

/// <summary>
/// An flock(2) on a lock file, shared or exclusive, held until disposed. flock locks belong to the open file
/// description, so they exclude other processes and other opens in this process alike, and die with the process.
/// </summary>
internal sealed unsafe class FileLock : IDisposable
{
    private readonly SafeFileHandle _handle;

    private FileLock(SafeFileHandle handle, string path, bool exclusive)
    {
        _handle = handle;
        Path = path;
        Exclusive = exclusive;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>True for LOCK_EX, false for LOCK_SH.</summary>
    public bool Exclusive { get; }

    /// <summary>Creates the lock file if needed and blocks until the lock is granted (or the token is cancelled).</summary>
    public static FileLock Acquire(string path, bool exclusive, CancellationToken cancellationToken = default)
    {
        var handle = OpenLockFile(path);
        try
        {
            int op = exclusive ? LockEx : LockSh;
            // Poll with LOCK_NB so a cancelled token is honoured; the first try is usually granted at once.
            int wait = 1;
            while (true)
            {
                if (Flock((int)handle.DangerousGetHandle(), op | LockNb) == 0)
                    return new FileLock(handle, path, exclusive);
                int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno != EWOULDBLOCK && errno != EINTR)
                    throw new FileSystemCallException("flock", path, errno);
                cancellationToken.ThrowIfCancellationRequested();
                Thread.Sleep(wait);
                wait = Math.Min(wait * 2, 50);
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Takes the lock if it is free now; null if another holder has it.</summary>
    public static FileLock? TryAcquire(string path, bool exclusive)
    {
        var handle = OpenLockFile(path);
        if (Flock((int)handle.DangerousGetHandle(), (exclusive ? LockEx : LockSh) | LockNb) == 0)
            return new FileLock(handle, path, exclusive);
        int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        handle.Dispose();
        if (errno is EWOULDBLOCK or EINTR)
            return null;
        throw new FileSystemCallException("flock", path, errno);
    }

    private static SafeFileHandle OpenLockFile(string path)
    {
        int fd;
        fixed (byte* p = LinuxSyscalls.NulTerminated(path))
            fd = Openat(AtFdCwd, p, ORdOnly | OCreat | OCloexec | ONoFollow, 0x1A4 /* 0644 */);
        if (fd < 0)
            throw new FileSystemCallException("open lock file", path, System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    public void Dispose() => _handle.Dispose(); // closing the description releases the lock
}
