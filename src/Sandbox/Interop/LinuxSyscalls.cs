using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Sandbox.Launch;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Sandbox.Interop;

/// <summary>The real <see cref="ISyscalls"/> and <see cref="IHostFileSystem"/>: Tmds.LibC, raw syscall() where it has no wrapper.</summary>
internal sealed unsafe class LinuxSyscalls : ISyscalls, IHostFileSystem
{
    public static readonly LinuxSyscalls Instance = new();

    // Numbers Tmds.LibC does not expose; the same on x86_64 and aarch64 (the unified table).
    private const int SysPidfdSendSignal = 424;
    private const int PPidfd = 3;
    private const int WExited = 4;
    private const int WNoHang = 1;
    private const int WAll = 0x40000000;
    private const int CldExited = 1;
    private const int CldKilled = 2;
    private const int CldDumped = 3;
    private const int SigChld = 17;

    private static readonly int SysWaitid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 95 : 247;

    public uint EffectiveUserId => geteuid();

    public uint EffectiveGroupId => getegid();

    public (SafeFileHandle Read, SafeFileHandle Write) CreatePipe()
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
            throw Errors.Host("create a pipe", errno);
        return (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
    }

    public SafeFileHandle OpenExecutable(string path)
    {
        int fd;
        fixed (byte* p = NulTerminated(path))
            fd = openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0)
            throw Errors.Host("open the sandbox-init executable", errno, path);
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    public NativeLaunchResult Launch(ReadOnlySpan<byte> plan)
    {
        // The launcher's child reads the plan from this memory after clone(CLONE_VM): it must not move.
        byte* block = (byte*)NativeMemory.AlignedAlloc((nuint)plan.Length, 16);
        try
        {
            plan.CopyTo(new Span<byte>(block, plan.Length));
            LaunchResultRecord result;
            int status = NativeLauncherMethods.Launch(block, &result);
            if (status == 0)
                return new NativeLaunchResult(
                    result.Pid, new PidfdHandle(result.Pidfd), null,
                    result.CgroupJoin == 0 ? null : (CgroupJoinMethod)result.CgroupJoin, result.CgroupFallbackError,
                    result.MountNsFd >= 0 ? new SafeFileHandle(result.MountNsFd, ownsHandle: true) : null);
            return new NativeLaunchResult(-1, null, ToSetupError(&result.Error));
        }
        finally
        {
            NativeMemory.AlignedFree(block);
        }
    }

    public SafeFileHandle? TryBuildRootTemplate(ReadOnlySpan<byte> plan, out NativeSetupError? error)
    {
        // The builder's child reads the plan from this memory after clone(CLONE_VM): it must not move.
        byte* block = (byte*)NativeMemory.AlignedAlloc((nuint)plan.Length, 16);
        try
        {
            plan.CopyTo(new Span<byte>(block, plan.Length));
            SetupErrorRecord record;
            int fd;
            if (NativeLauncherMethods.BuildRootTemplate(block, &fd, &record) == 0)
            {
                error = null;
                return new SafeFileHandle(fd, ownsHandle: true);
            }
            error = ToSetupError(&record);
            return null;
        }
        finally
        {
            NativeMemory.AlignedFree(block);
        }
    }

    public SafeFileHandle? TryCreateRootNamespace(SafeFileHandle tree, string staging, out NativeSetupError? error)
    {
        bool added = false;
        try
        {
            tree.DangerousAddRef(ref added);
            SetupErrorRecord record;
            int fd, status;
            fixed (byte* s = NulTerminated(staging))
                status = NativeLauncherMethods.CreateRootNamespace((int)tree.DangerousGetHandle(), s, &fd, &record);
            if (status == 0)
            {
                error = null;
                return new SafeFileHandle(fd, ownsHandle: true);
            }
            error = ToSetupError(&record);
            return null;
        }
        finally
        {
            if (added) tree.DangerousRelease();
        }
    }

    private static readonly int SysSchedSetscheduler = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 119 : 144;
    private const int SchedIdle = 5;

    public bool MakeCurrentThreadIdle()
    {
        int priority = 0;  // struct sched_param { int sched_priority; }
        return (long)syscall(SysSchedSetscheduler, 0, SchedIdle, &priority) == 0;
    }

    public SafeFileHandle? TryCreateNetworkNamespace(out int errno)
    {
        int fd;
        int status = NativeLauncherMethods.CreateNetworkNamespace(&fd);
        errno = -status;
        return status == 0 ? new SafeFileHandle(fd, ownsHandle: true) : null;
    }

    public SafeFileHandle CreateUserNamespace(string uidMap, string gidMap)
    {
        int fd, status;
        fixed (byte* u = NulTerminated(uidMap))
        fixed (byte* g = NulTerminated(gidMap))
            status = NativeLauncherMethods.CreateUserNamespace(u, g, &fd);
        if (status != 0)
            throw Errors.Host("make the user namespace for idmapped image layers", -status, $"uid_map {uidMap.Trim()}, gid_map {gidMap.Trim()}");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    // open_tree and mount_setattr: the unified table's numbers, the same on x86_64 and aarch64 (checked against the
    // headers, as the flags are, by PlanLayoutTests).
    internal const int SysOpenTree = 428, SysMountSetattr = 442;
    internal const uint OpenTreeClone = 1, OpenTreeCloexec = 0x80000 /* O_CLOEXEC */, AtEmptyPath = 0x1000, AtSymlinkNoFollow = 0x100;
    internal const ulong MountAttrIdmap = 0x00100000, MountAttrRdonly = 0x1;

    /// <summary>struct mount_attr (linux/mount.h, MOUNT_ATTR_SIZE_VER0).</summary>
    private struct MountAttr
    {
        public ulong AttrSet;
        public ulong AttrClr;
        public ulong Propagation;
        public ulong UserNsFd;
    }

    public SafeFileHandle OpenIdmappedTree(string directory, SafeFileHandle userNamespace)
    {
        int fd;
        fixed (byte* p = NulTerminated(directory))
            fd = (int)syscall(SysOpenTree, AT_FDCWD, p, OpenTreeClone | OpenTreeCloexec | AtSymlinkNoFollow);
        if (fd < 0)
            throw Errors.Host("clone the image layer directory as a detached mount", errno, directory);
        var tree = new SafeFileHandle(fd, ownsHandle: true);
        bool added = false;
        try
        {
            userNamespace.DangerousAddRef(ref added);
            // Read-only too: nothing in the sandbox's setup writes a lower layer, and nothing may.
            var attr = new MountAttr { AttrSet = MountAttrIdmap | MountAttrRdonly, UserNsFd = (ulong)userNamespace.DangerousGetHandle() };
            byte empty = 0;
            if ((long)syscall(SysMountSetattr, fd, &empty, AtEmptyPath, &attr, sizeof(MountAttr)) != 0)
                throw Errors.Host("idmap the image layer (mount_setattr MOUNT_ATTR_IDMAP; its file system must support idmapped mounts)", errno, directory);
            return tree;
        }
        catch
        {
            tree.Dispose();
            throw;
        }
        finally
        {
            if (added) userNamespace.DangerousRelease();
        }
    }

    public SafeFileHandle CloneTree(SafeFileHandle tree)
    {
        bool added = false;
        try
        {
            tree.DangerousAddRef(ref added);
            byte empty = 0;
            int fd = (int)syscall(SysOpenTree, (int)tree.DangerousGetHandle(), &empty, OpenTreeClone | OpenTreeCloexec | AtEmptyPath);
            if (fd < 0)
                throw Errors.Host("clone an idmapped image layer for a launch", errno);
            return new SafeFileHandle(fd, ownsHandle: true);
        }
        finally
        {
            if (added) tree.DangerousRelease();
        }
    }

    private static NativeSetupError ToSetupError(SetupErrorRecord* error)
    {
        var detail = new ReadOnlySpan<byte>(error->Detail, PlanConstants.DetailSize);
        int end = detail.IndexOf((byte)0);
        return new NativeSetupError(
            (SetupStage)error->Stage, error->Error, error->OpIndex,
            Encoding.UTF8.GetString(end < 0 ? detail : detail[..end]));
    }

    private static readonly int SysMemfdCreate = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 279 : 319;
    private const int MfdCloexec = 1, MfdAllowSealing = 2;
    private const int FAddSeals = 1033;
    private const int FSealSeal = 1, FSealShrink = 2, FSealGrow = 4, FSealWrite = 8;

    public SafeFileHandle CreateSealedMemoryFile(string name, ReadOnlySpan<byte> contents)
    {
        int fd;
        fixed (byte* n = NulTerminated(name))
            fd = (int)syscall(SysMemfdCreate, n, MfdCloexec | MfdAllowSealing);
        if (fd < 0)
            throw Errors.Host("create a memfd", errno, name);
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            fixed (byte* data = contents)
            {
                for (int written = 0; written < contents.Length;)
                {
                    long n = write(fd, data + written, contents.Length - written);
                    if (n < 0 && errno == EINTR) continue;
                    if (n <= 0)
                        throw Errors.Host("write a memfd", n < 0 ? errno : EIO, name);
                    written += (int)n;
                }
            }
            if (fcntl(fd, FAddSeals, FSealSeal | FSealShrink | FSealGrow | FSealWrite) < 0)
                throw Errors.Host("seal a memfd", errno, name);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public IReadOnlyList<string> ReadKernelLog()
    {
        var records = new List<string>();
        int fd;
        fixed (byte* path = "/dev/kmsg\0"u8)
            fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            return records;
        try
        {
            // One record per read; a record is at most a few KiB. EPIPE: records were overwritten meanwhile.
            byte* buffer = stackalloc byte[8192];
            while (true)
            {
                long n = read(fd, buffer, 8192);
                if (n < 0 && (errno == EINTR || errno == EPIPE)) continue;
                if (n <= 0) break;
                records.Add(Encoding.UTF8.GetString(buffer, (int)n));
            }
        }
        finally
        {
            close(fd);
        }
        return records;
    }

    public void SendSignal(PidfdHandle process, int signal)
    {
        bool added = false;
        process.DangerousAddRef(ref added);
        try
        {
            int r = (int)syscall(SysPidfdSendSignal, process.Fd, signal, 0, 0);
            if (r < 0 && errno != ESRCH)
                throw Errors.Host("signal the sandbox", errno);
        }
        finally
        {
            if (added) process.DangerousRelease();
        }
    }

    public bool TryReap(PidfdHandle process, out WaitStatus status)
    {
        siginfo_t info = default;
        bool added = false;
        process.DangerousAddRef(ref added);
        try
        {
            int r;
            do r = (int)syscall(SysWaitid, PPidfd, process.Fd, &info, WExited | WNoHang | WAll, 0);
            while (r < 0 && errno == EINTR);
            if (r < 0)
                throw Errors.Host("wait for the sandbox", errno);
        }
        finally
        {
            if (added) process.DangerousRelease();
        }

        // siginfo_t for SIGCHLD: si_signo, si_errno, si_code, then si_pid, si_uid, si_status.
        int* words = (int*)&info;
        if (words[0] != SigChld || words[4] == 0)
        {
            status = default;
            return false;
        }
        status = words[2] switch
        {
            CldExited => WaitStatus.Exited(words[6]),
            CldKilled => WaitStatus.Killed(words[6]),
            CldDumped => WaitStatus.Killed(words[6], coreDumped: true),
            _ => WaitStatus.Killed(words[6]),
        };
        return true;
    }

    public int ReadAvailable(SafeFileHandle handle, Span<byte> buffer)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            int fd = (int)handle.DangerousGetHandle();
            int flags = fcntl(fd, F_GETFL);
            fcntl(fd, F_SETFL, flags | O_NONBLOCK);
            fixed (byte* p = buffer)
            {
                long n;
                do n = read(fd, p, (size_t)buffer.Length);
                while (n < 0 && errno == EINTR);
                return n < 0 ? 0 : (int)n;
            }
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    public HostFileKind GetKind(string path) => GetKind(path, out _);

    public HostFileKind GetKind(string path, out FileIdentity identity)
    {
        stat st;
        int r;
        fixed (byte* p = NulTerminated(path))
            r = lstat(p, &st);
        identity = default;
        if (r != 0)
            return HostFileKind.Missing;
        identity = new FileIdentity((ulong)st.st_dev, (ulong)st.st_ino);
        uint mode = (ushort)st.st_mode;
        return (mode & 0xF000) switch
        {
            0x4000 => HostFileKind.Directory,
            0x8000 => HostFileKind.RegularFile,
            0xA000 => HostFileKind.Symlink,
            0x2000 => HostFileKind.CharacterDevice,
            _ => HostFileKind.Other,
        };
    }

    /// <summary>lstat's owner, group and permission bits (System.IO exposes no owner), or false if it fails.</summary>
    public bool TryGetOwnership(string path, out uint uid, out uint gid, out UnixFileMode mode)
    {
        stat st;
        int r;
        fixed (byte* p = NulTerminated(path))
            r = lstat(p, &st);
        (uid, gid, mode) = r == 0 ? ((uint)st.st_uid, (uint)st.st_gid, (UnixFileMode)((ushort)st.st_mode & 0xFFF)) : (0u, 0u, UnixFileMode.None);
        return r == 0;
    }

    public string ReadLink(string path) =>
        new FileInfo(path).LinkTarget ?? throw Errors.Host("read a symbolic link", EINVAL, path);

    public string? TryReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static byte[] NulTerminated(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
