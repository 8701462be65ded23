using static Sandbox.Seccomp.SyscallArguments;

namespace Sandbox.Seccomp.Profiles;

/// <summary>
/// The default policy (<see cref="SeccompPolicy.Default"/>): an allow-list of what ordinary programs need
/// (files, memory, threads and processes, signals, time, polling, System V and POSIX IPC, sockets), with
/// explicit refusals, for the syscalls that reach kernel surface a sandbox must not: mounting and the new
/// mount API, ptrace and cross-process memory access, keyrings, bpf and perf, userfaultfd, io_uring, namespace
/// creation (unshare or clone with CLONE_NEW*) and entry (setns), kexec, kernel modules, personality changes,
/// setting clocks, swap, reboot, the kernel log, accounting and quotas, raw I/O ports, NUMA policy.
/// </summary>
/// <remarks>
/// <para>Refused syscalls fail with EPERM, as for an unprivileged process; sockets of the AF_ALG (kernel
/// crypto) and AF_VSOCK families fail with EAFNOSUPPORT. clone3 fails with ENOSYS: its flags live in memory a
/// filter cannot read, and every libc falls back to clone, whose flags it can. Any syscall neither allowed
/// nor refused — including ones newer than the syscall tables — fails with ENOSYS, which libc reads as
/// "this kernel lacks it" and falls back from.</para>
/// <para>Arguments the kernel truncates to 32 bits (a socket family, a personality) are compared on their low
/// 32 bits only, so a program cannot slip a refused value past the filter with junk in the high half.</para>
/// </remarks>
public static class DefaultProfile
{
    /// <summary>CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET.</summary>
    public const ulong CloneNamespaceFlags = 0x7E020000;

    /// <summary>CLONE_NEWTIME, which only unshare and clone3 take.</summary>
    public const ulong CloneNewTime = 0x00000080;

    /// <summary>CLONE_THREAD.</summary>
    public const ulong CloneThread = 0x00010000;

    /// <summary>AF_ALG: the kernel crypto API as sockets.</summary>
    public const ulong AfAlg = 38;

    /// <summary>AF_VSOCK: sockets to the hypervisor and other VMs.</summary>
    public const ulong AfVsock = 40;

    /// <summary>The personalities a program may switch to (PER_LINUX, PER_LINUX32, UNAME26 with each) or query (0xffffffff), as Docker allows.</summary>
    public static IReadOnlyList<ulong> AllowedPersonalities { get; } = [0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF];

    /// <summary>The syscalls allowed without conditions.</summary>
    public static IReadOnlyList<string> AllowedSyscalls { get; } =
    [
        // files and descriptors
        "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
        "open", "openat", "openat2", "creat", "close", "close_range", "lseek", "dup", "dup2", "dup3", "pipe", "pipe2",
        "fcntl", "flock", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range", "truncate", "ftruncate", "fallocate",
        "fadvise64", "readahead", "sendfile", "splice", "tee", "vmsplice", "copy_file_range", "ioctl",
        "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat", "faccessat2",
        "getdents", "getdents64", "getcwd", "chdir", "fchdir", "rename", "renameat", "renameat2", "mkdir", "mkdirat",
        "rmdir", "link", "linkat", "unlink", "unlinkat", "symlink", "symlinkat", "readlink", "readlinkat",
        "chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown", "fchownat", "umask", "utime", "utimes", "utimensat",
        "futimesat", "mknod", "mknodat", "getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr",
        "listxattr", "llistxattr", "flistxattr", "removexattr", "lremovexattr", "fremovexattr", "name_to_handle_at",
        "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "fanotify_mark", "memfd_create",
        // memory
        "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync", "mincore", "mlock", "mlock2", "munlock",
        "mlockall", "munlockall", "membarrier", "pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages",
        "memfd_secret", "process_mrelease",
        // processes and threads
        "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "fork", "vfork", "kill", "tkill", "tgkill",
        "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
        "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "setuid", "setgid", "setreuid",
        "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid", "setgroups", "capget", "capset", "prctl",
        "arch_prctl", "modify_ldt", "get_thread_area", "set_thread_area", "set_tid_address", "set_robust_list",
        "get_robust_list", "rseq", "futex", "futex_waitv", "getrlimit", "setrlimit", "prlimit64", "getrusage",
        "getpriority", "setpriority", "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
        "sched_setparam", "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max", "sched_get_priority_min",
        "sched_rr_get_interval", "sched_getattr", "sched_setattr", "getcpu", "uname", "sysinfo", "times",
        "pidfd_open", "pidfd_send_signal", "ioprio_get", "ioprio_set", "restart_syscall", "seccomp",
        "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
        // signals
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo",
        "rt_tgsigqueueinfo", "rt_sigsuspend", "sigaltstack", "signalfd", "signalfd4", "pause", "alarm",
        "getitimer", "setitimer",
        // time
        "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time", "adjtimex",
        "clock_adjtime", "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete",
        "timerfd_create", "timerfd_settime", "timerfd_gettime",
        // waiting for events, asynchronous I/O
        "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
        "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "io_setup", "io_destroy", "io_submit", "io_cancel",
        "io_getevents", "io_pgetevents",
        // System V and POSIX IPC (the sandbox has its own IPC namespace)
        "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl", "msgget", "msgsnd", "msgrcv",
        "msgctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
        // sockets (socket itself is conditional)
        "socketpair", "connect", "accept", "accept4", "bind", "listen", "getsockname", "getpeername", "sendto",
        "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "setsockopt", "getsockopt",
        // randomness
        "getrandom",
    ];

    /// <summary>The syscalls refused with EPERM.</summary>
    public static IReadOnlyList<string> RefusedSyscalls { get; } =
    [
        // mounts and the root
        "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
        "mount_setattr", "open_by_handle_at", "fanotify_init",
        // other processes' memory and state
        "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise",
        // kernel attack surface
        "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
        "io_uring_register", "lookup_dcookie",
        // namespaces
        "setns",
        // the machine
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "create_module", "query_module",
        "get_kernel_syms", "reboot", "swapon", "swapoff", "syslog", "acct", "quotactl", "quotactl_fd", "sethostname",
        "setdomainname", "settimeofday", "clock_settime", "iopl", "ioperm", "vhangup", "nfsservctl", "uselib", "ustat",
        "sysfs", "_sysctl",
        // NUMA placement
        "mbind", "set_mempolicy", "get_mempolicy", "migrate_pages", "move_pages", "set_mempolicy_home_node",
    ];

    /// <summary>The default policy.</summary>
    public static SeccompPolicy Policy { get; } = Build();

    /// <summary>The default policy as a builder, for profiles that start from it.</summary>
    internal static SeccompPolicyBuilder Builder() => Policy.ToBuilder();

    private static SeccompPolicy Build()
    {
        var builder = SeccompPolicy.Create(SeccompAction.Errno(LinuxErrno.ENOSYS))
            .Allow(AllowedSyscalls)
            .Deny(RefusedSyscalls)
            .Allow("clone").When(Arg0.HasNoneOf(CloneNamespaceFlags))
            .Deny("clone")
            .Deny("clone3", errno: LinuxErrno.ENOSYS)
            .Allow("unshare").When(Arg0.HasNoneOf(CloneNamespaceFlags | CloneNewTime))
            .Deny("unshare")
            .Deny("socket", errno: LinuxErrno.EAFNOSUPPORT).When(Arg0.MaskedEquals(0xFFFFFFFF, AfAlg))
            .Deny("socket", errno: LinuxErrno.EAFNOSUPPORT).When(Arg0.MaskedEquals(0xFFFFFFFF, AfVsock))
            .Allow("socket");
        foreach (ulong persona in AllowedPersonalities)
            builder.Allow("personality").When(Arg0.MaskedEquals(0xFFFFFFFF, persona));
        return builder.Deny("personality").Build();
    }
}
