using System.Runtime.InteropServices;

namespace Sandbox.Launch;

// The wire format of the launch plan, mirrored field for field from src/native/launcher/sandbox_plan.h.
// PlanLayoutTests compiles a C program against that header and checks every size and offset here.

/// <summary>Constants shared with the native launcher.</summary>
internal static class PlanConstants
{
    public const uint PlanMagic = 0x50584253;   // "SBXP"
    public const uint PlanVersion = 11;
    public const uint ErrorMagic = 0x45584253;  // "SBXE"
    public const uint ExitMagic = 0x58584253;   // "SBXX"
    public const int MaxMountOps = 512;
    public const int MaxRlimits = 16;
    public const int MaxCgroupFiles = 16;
    public const int DetailSize = 240;
    public const int MaxSeccompInstructions = 4096;
}

[Flags]
internal enum PlanFlags : uint
{
    None = 0,
    DenySetgroups = 1u << 0,
    ClearGroups = 1u << 1,
    LoopbackUp = 1u << 2,
    RootReadOnly = 1u << 3,
    DropCapabilities = 1u << 4,
    NoNewPrivileges = 1u << 5,
    NewRoot = 1u << 6,
}

internal enum MountOpKind : uint
{
    MakeDirectory = 1,
    MakeFile = 2,
    WriteFile = 3,
    Symlink = 4,
    Bind = 5,
    Tmpfs = 6,
    Proc = 7,
    Devpts = 8,
    Remount = 9,
    Overlay = 10,
    /// <summary>A copy of a detached tree (a subtree's root template), whose fd is the op's one <see cref="MountOp.LayerFds"/> entry, mounted at the target.</summary>
    Attach = 11,
}

[Flags]
internal enum MountFlags : uint
{
    None = 0,
    ReadOnly = 1u << 0,
    Recursive = 1u << 1,
    NoSuid = 1u << 2,
    NoDev = 1u << 3,
    NoExec = 1u << 4,
    Optional = 1u << 5,
    UserXattr = 1u << 6,
    DiskUpper = 1u << 7,
}

[StructLayout(LayoutKind.Sequential)]
internal struct PlanHeader
{
    public uint Magic;
    public uint Version;
    public uint TotalSize;
    public uint Flags;
    public ulong CloneFlags;
    public int StdinFd;
    public int StdoutFd;
    public int StderrFd;
    public int ReportFd;
    public int InitFd;
    public uint Uid;
    public uint Gid;
    public uint SetupTimeoutMs;
    public uint UidMap;
    public uint GidMap;
    public uint Hostname;
    public uint RootStaging;
    public uint RootOptions;
    public uint Cwd;
    public uint Argv;
    public uint Argc;
    public uint Envp;
    public uint Envc;
    public uint Mounts;
    public uint MountCount;
    public uint Rlimits;
    public uint RlimitCount;
    public uint CgroupProcs;
    public uint CgroupProcsCount;
    public int NetNsFd;
    public int SeccompFd;
    public int NotifyFd;
    public int CgroupFd;
    public uint CgroupProcsFds;
    public int RootTemplateFd;
    public int RootNamespaceFd;
    public uint TemplateRootFlags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct MountOpRecord
{
    public uint Kind;
    public uint Flags;
    public uint Source;
    public uint Target;
    public uint Data;
    public uint DataLength;
    public uint Mode;
    public uint LayerFds;
}

[StructLayout(LayoutKind.Sequential)]
internal struct RlimitRecord
{
    public uint Resource;
    public uint Reserved;
    public ulong Soft;
    public ulong Hard;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SetupErrorRecord
{
    public uint Magic;
    public int Stage;
    public int Error;
    public int OpIndex;
    public fixed byte Detail[PlanConstants.DetailSize];
}

[StructLayout(LayoutKind.Sequential)]
internal struct ExitReportRecord
{
    public uint Magic;
    public int WaitStatus;
    public long UserMicroseconds;
    public long SystemMicroseconds;
    public long MaxRssKib;
}

[StructLayout(LayoutKind.Sequential)]
internal struct LaunchResultRecord
{
    public int Pid;
    public int Pidfd;
    public SetupErrorRecord Error;
    public int MountNsFd;
    public int CgroupJoin;
    public int CgroupFallbackError;
    public int Reserved;
}
