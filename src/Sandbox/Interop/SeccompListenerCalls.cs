using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sandbox.Interop;

/// <summary>
/// The system calls of the host's seccomp supervisor: the socket init sends the filter's listener on, the listener's
/// ioctls (SECCOMP_IOCTL_NOTIF_RECV / _SEND / _ID_VALID, linux/seccomp.h), and reading the notifying process's memory
/// (process_vm_readv). Each returns 0 (or a count) or the negated errno.
/// </summary>
internal static unsafe partial class SeccompListenerCalls
{
    private const int AfUnix = 1, SockSeqpacket = 5, SockCloexec = 0x80000;
    private const int SolSocket = 1, ScmRights = 1, MsgCmsgCloexec = 0x40000000;
    private const short PollIn = 0x1, PollHup = 0x10, PollErr = 0x8, PollNval = 0x20;

    // _IOWR('!', 0, struct seccomp_notif) and friends (sizes 80, 24 and 8).
    public const uint NotifReceive = 0xC0502100;
    public const uint NotifSend = 0xC0182101;
    public const uint NotifIdValid = 0x40082102;

    /// <summary>socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC).</summary>
    public static (SafeFileHandle Host, SafeFileHandle Sandbox) CreateSocketPair()
    {
        int* fds = stackalloc int[2];
        if (socketpair(AfUnix, SockSeqpacket | SockCloexec, 0, fds) != 0)
            throw Errors.Host("create the seccomp supervisor's socket", Marshal.GetLastPInvokeError());
        return (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for input on <paramref name="fd"/>: 1 ready, 0 timeout, -1 hung up or invalid.</summary>
    public static int WaitReadable(int fd, int timeoutMs)
    {
        var p = new PollFd { Fd = fd, Events = PollIn };
        int r = poll(&p, 1, timeoutMs);
        if (r < 0) return Marshal.GetLastPInvokeError() == 4 /* EINTR */ ? 0 : -1;
        if (r == 0) return 0;
        if ((p.Revents & PollIn) != 0) return 1;
        return (p.Revents & (PollHup | PollErr | PollNval)) != 0 ? -1 : 0;
    }

    /// <summary>Receives one fd sent with SCM_RIGHTS (close-on-exec here); null on EOF or a message without one.</summary>
    public static SafeFileHandle? ReceiveFd(SafeFileHandle socket)
    {
        byte data;
        var iov = new IoVec { Base = &data, Length = 1 };
        byte* control = stackalloc byte[32];
        new Span<byte>(control, 32).Clear();
        var header = new MessageHeader { Iov = &iov, IovLength = 1, Control = control, ControlLength = 32 };
        long n;
        do n = recvmsg((int)socket.DangerousGetHandle(), &header, MsgCmsgCloexec);
        while (n < 0 && Marshal.GetLastPInvokeError() == 4);
        if (n <= 0 || header.ControlLength < 20) return null;
        // struct cmsghdr { size_t len; int level; int type; } then the fd.
        if (*(int*)(control + 8) != SolSocket || *(int*)(control + 12) != ScmRights) return null;
        return new SafeFileHandle(*(int*)(control + 16), ownsHandle: true);
    }

    /// <summary>SECCOMP_IOCTL_NOTIF_RECV into a zeroed struct seccomp_notif.</summary>
    public static int Receive(SafeFileHandle listener, out NotificationRecord notification)
    {
        NotificationRecord record = default;
        int r = ioctl((int)listener.DangerousGetHandle(), NotifReceive, &record);
        notification = record;
        return r < 0 ? -Marshal.GetLastPInvokeError() : 0;
    }

    /// <summary>SECCOMP_IOCTL_NOTIF_SEND.</summary>
    public static int Send(SafeFileHandle listener, in ResponseRecord response)
    {
        ResponseRecord copy = response;
        int r = ioctl((int)listener.DangerousGetHandle(), NotifSend, &copy);
        return r < 0 ? -Marshal.GetLastPInvokeError() : 0;
    }

    /// <summary>SECCOMP_IOCTL_NOTIF_ID_VALID: whether the notified call is still waiting (its process alive and unchanged).</summary>
    public static bool IsStillValid(SafeFileHandle listener, ulong id) =>
        ioctl((int)listener.DangerousGetHandle(), NotifIdValid, &id) == 0;

    /// <summary>process_vm_readv of <paramref name="buffer"/>.Length bytes at <paramref name="address"/> in <paramref name="pid"/>: bytes read or -errno.</summary>
    public static long ReadProcessMemory(int pid, ulong address, Span<byte> buffer)
    {
        fixed (byte* b = buffer)
        {
            var local = new IoVec { Base = b, Length = (nuint)buffer.Length };
            var remote = new IoVec { Base = (void*)address, Length = (nuint)buffer.Length };
            long n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
            return n < 0 ? -Marshal.GetLastPInvokeError() : n;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MessageHeader
    {
        public void* Name;
        public int NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct seccomp_notif (80 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct NotificationRecord
    {
        public ulong Id;
        public uint Pid;
        public uint Flags;
        public int Nr;
        public uint Arch;
        public ulong InstructionPointer;
        public fixed ulong Args[6];
    }

    /// <summary>struct seccomp_notif_resp (24 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ResponseRecord
    {
        public ulong Id;
        public long Value;
        public int Error;
        public uint Flags;
    }

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int socketpair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int poll(PollFd* fds, nuint count, int timeout);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial nint recvmsg(int fd, MessageHeader* message, int flags);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int ioctl(int fd, nuint request, void* argument);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial nint process_vm_readv(int pid, IoVec* local, nuint localCount, IoVec* remote, nuint remoteCount, nuint flags);
}
