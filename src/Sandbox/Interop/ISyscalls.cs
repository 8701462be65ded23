using Microsoft.Win32.SafeHandles;

namespace Sandbox.Interop;

/// <summary>
/// Every system call the host side makes to start, watch and stop a sandbox. The one seam between the
/// sandbox's logic and the kernel: <see cref="LinuxSyscalls"/> is the real thing; tests substitute a fake.
/// </summary>
internal interface ISyscalls
{
    /// <summary>The host process's effective user id.</summary>
    uint EffectiveUserId { get; }

    /// <summary>The host process's effective group id.</summary>
    uint EffectiveGroupId { get; }

    /// <summary>pipe2(O_CLOEXEC).</summary>
    (SafeFileHandle Read, SafeFileHandle Write) CreatePipe();

    /// <summary>Opens a file for execveat: O_RDONLY | O_CLOEXEC.</summary>
    SafeFileHandle OpenExecutable(string path);

    /// <summary>Runs the native launcher on a serialized plan (see PlanWriter).</summary>
    NativeLaunchResult Launch(ReadOnlySpan<byte> plan);

    /// <summary>
    /// A new network namespace with lo up, made by the calling thread (which enters it and comes back): an fd
    /// for it, or null and the errno (EPERM without CAP_SYS_ADMIN; ENOTRECOVERABLE when the thread could not
    /// return to its own namespace and must not be used for host work again).
    /// </summary>
    SafeFileHandle? TryCreateNetworkNamespace(out int errno);

    /// <summary>
    /// A user namespace with these uid_map and gid_map contents (root writes them), made by a short-lived child of
    /// the native launcher: an fd (close-on-exec) for mount_setattr(MOUNT_ATTR_IDMAP).
    /// </summary>
    /// <exception cref="SandboxException">The kernel refused (the errno and the maps say what).</exception>
    SafeFileHandle CreateUserNamespace(string uidMap, string gidMap);

    /// <summary>
    /// open_tree(OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC) of <paramref name="directory"/> (no symlink followed), made
    /// idmapped with <paramref name="userNamespace"/> and read-only (mount_setattr MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY):
    /// a detached mount that shows the directory's on-disk ids through that namespace's maps.
    /// </summary>
    /// <exception cref="SandboxException">Either call failed (the errno and the directory say what).</exception>
    SafeFileHandle OpenIdmappedTree(string directory, SafeFileHandle userNamespace);

    /// <summary>
    /// Builds a root template from a serialized plan (see PlanWriter) whose mounts a template can hold
    /// (sbx_build_root_template): a detached tmpfs tree with the mounts' result, sealed read-only. The tree's fd, or null
    /// and what stopped the build (the stage, errno, mount step and path, as a launch reports them).
    /// </summary>
    SafeFileHandle? TryBuildRootTemplate(ReadOnlySpan<byte> plan, out NativeSetupError? error);

    /// <summary>
    /// A mount namespace whose root is a copy of the root template <paramref name="tree"/> (sbx_create_root_namespace), with a
    /// /proc that shows no process where each sandbox mounts its own: its fd, or null and what stopped it.
    /// </summary>
    SafeFileHandle? TryCreateRootNamespace(SafeFileHandle tree, string staging, out NativeSetupError? error);

    /// <summary>open_tree(OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH) of a detached mount: a copy (idmapping included) for one launch.</summary>
    /// <exception cref="SandboxException">The kernel refused.</exception>
    SafeFileHandle CloneTree(SafeFileHandle tree);

    /// <summary>
    /// sched_setscheduler(SCHED_IDLE) for the calling thread: it then runs only on CPU time nothing else wants (work ahead
    /// of time must not delay the launches it prepares). False if the kernel refused.
    /// </summary>
    bool MakeCurrentThreadIdle();

    /// <summary>
    /// A memfd (close-on-exec) holding <paramref name="contents"/>, sealed against any change: what a sandbox's init
    /// reads its seccomp program from.
    /// </summary>
    SafeFileHandle CreateSealedMemoryFile(string name, ReadOnlySpan<byte> contents);

    /// <summary>
    /// The kernel log's records (/dev/kmsg, "PRIORITY,SEQUENCE,MICROSECONDS,FLAGS;MESSAGE"), oldest first; empty when
    /// the host may not read it (kernel.dmesg_restrict for an unprivileged host).
    /// </summary>
    IReadOnlyList<string> ReadKernelLog();

    /// <summary>pidfd_send_signal; a process that is already gone is not an error.</summary>
    void SendSignal(PidfdHandle process, int signal);

    /// <summary>waitid(P_PIDFD, WEXITED | WNOHANG): true and the status once the process has exited.</summary>
    bool TryReap(PidfdHandle process, out WaitStatus status);

    /// <summary>A non-blocking read: the number of bytes read, 0 if nothing is there.</summary>
    int ReadAvailable(SafeFileHandle handle, Span<byte> buffer);
}

/// <summary>
/// What <see cref="ISyscalls.Launch"/> returns: the sandbox's init, or where the setup failed; for a launch into a
/// cgroup, how the child joined it and, if clone3(CLONE_INTO_CGROUP) was tried and the launcher fell back to
/// cgroup.procs, the errno that made it (ENOSYS, E2BIG, EINVAL); and a handle on the sandbox's mount namespace (null
/// when it has none of its own), which the host closes once the run is reported so that the namespace's teardown stays
/// off the path from init's exit to the result.
/// </summary>
internal readonly record struct NativeLaunchResult(
    int Pid, PidfdHandle? Process, NativeSetupError? Error, CgroupJoinMethod? CgroupJoin = null, int CgroupFallbackErrno = 0,
    SafeFileHandle? MountNamespace = null);

/// <summary>A setup failure reported by the launcher: stage, errno, the mount op's index and the path.</summary>
internal sealed record NativeSetupError(Launch.SetupStage Stage, int Errno, int OpIndex, string Detail);

/// <summary>How a process ended, decoded from waitid's siginfo.</summary>
internal readonly record struct WaitStatus(int? ExitCode, int? Signal, bool CoreDumped)
{
    public static WaitStatus Exited(int code) => new(code, null, false);

    public static WaitStatus Killed(int signal, bool coreDumped = false) => new(null, signal, coreDumped);

    /// <summary>Decodes a wait(2) status word, as sandbox-init reports it.</summary>
    public static WaitStatus FromWaitStatusWord(int status)
    {
        int signal = status & 0x7f;
        return signal == 0 ? Exited((status >> 8) & 0xff) : Killed(signal, (status & 0x80) != 0);
    }
}
