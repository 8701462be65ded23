namespace Sandbox.Launch;

/// <summary>The step of a sandbox's setup that failed, as the native launcher reports it.</summary>
/// <remarks>The numbers are the launcher's <c>enum sbx_stage</c> (src/native/launcher/sandbox_plan.h).</remarks>
public enum SetupStage
{
    /// <summary>The stage was not reported.</summary>
    Unknown = 0,
    /// <summary>The launch plan was rejected.</summary>
    Plan = 1,
    /// <summary>clone() of the sandbox's first process.</summary>
    Clone = 2,
    /// <summary>Writing "deny" to /proc/PID/setgroups.</summary>
    WriteSetgroups = 3,
    /// <summary>Writing /proc/PID/uid_map.</summary>
    WriteUidMap = 4,
    /// <summary>Writing /proc/PID/gid_map.</summary>
    WriteGidMap = 5,
    /// <summary>Waiting for the host to release the child.</summary>
    WaitRelease = 6,
    /// <summary>Resetting signal handling.</summary>
    Signals = 7,
    /// <summary>Making the mount namespace private.</summary>
    MountPrivate = 8,
    /// <summary>Opening the host path of a bind mount.</summary>
    OpenBindSource = 9,
    /// <summary>Mounting the new root's tmpfs.</summary>
    MountRoot = 10,
    /// <summary>Resolving a path inside the new root.</summary>
    ResolveTarget = 11,
    /// <summary>Creating a directory in the new root.</summary>
    MakeDirectory = 12,
    /// <summary>Creating an empty file in the new root.</summary>
    MakeFile = 13,
    /// <summary>Writing a file in the new root.</summary>
    WriteFile = 14,
    /// <summary>Creating a symbolic link in the new root.</summary>
    Symlink = 15,
    /// <summary>Bind-mounting a host path.</summary>
    Bind = 16,
    /// <summary>Mounting a tmpfs.</summary>
    Tmpfs = 17,
    /// <summary>Mounting /proc.</summary>
    Proc = 18,
    /// <summary>Mounting /dev/pts.</summary>
    Devpts = 19,
    /// <summary>Changing the flags of a mount.</summary>
    Remount = 20,
    /// <summary>pivot_root into the new root.</summary>
    PivotRoot = 21,
    /// <summary>Making the new root read-only.</summary>
    RootReadOnly = 22,
    /// <summary>Setting the hostname.</summary>
    Hostname = 23,
    /// <summary>Bringing up the loopback interface.</summary>
    Loopback = 24,
    /// <summary>Setting a resource limit.</summary>
    Rlimit = 25,
    /// <summary>Clearing supplementary groups.</summary>
    Setgroups = 26,
    /// <summary>Switching to the sandbox's group id.</summary>
    Setgid = 27,
    /// <summary>Switching to the sandbox's user id.</summary>
    Setuid = 28,
    /// <summary>Dropping capabilities.</summary>
    Capabilities = 29,
    /// <summary>Setting no_new_privs.</summary>
    NoNewPrivileges = 30,
    /// <summary>Arranging for the sandbox to die with the host.</summary>
    ParentDeath = 31,
    /// <summary>Changing to the working directory.</summary>
    Chdir = 32,
    /// <summary>Placing the standard streams.</summary>
    Stdio = 33,
    /// <summary>Executing the sandbox's init.</summary>
    ExecInit = 34,
    /// <summary>Executing the program.</summary>
    ExecPayload = 35,
    /// <summary>The setup took longer than allowed.</summary>
    SetupTimeout = 36,
    /// <summary>The sandbox's first process died during setup.</summary>
    ChildDied = 37,
    /// <summary>The sandbox's init failed.</summary>
    Init = 38,
    /// <summary>Moving the sandbox's first process into its cgroup (writing cgroup.procs).</summary>
    JoinCgroup = 39,
    /// <summary>Entering the sandbox's cgroup namespace.</summary>
    CgroupNamespace = 40,
    /// <summary>Entering a network namespace made ahead of time, or returning from it (the launcher thread).</summary>
    NetworkNamespace = 41,
    /// <summary>Loading the seccomp filter in the program's process, just before its exec (sandbox-init).</summary>
    Seccomp = 42,
    /// <summary>Mounting an overlay (an image's layers under a throw-away upper directory on a fresh tmpfs).</summary>
    Overlay = 43,
}
