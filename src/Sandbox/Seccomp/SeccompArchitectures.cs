using System.Runtime.InteropServices;

namespace Sandbox.Seccomp;

/// <summary>Facts about the architectures a filter can be compiled for.</summary>
public static class SeccompArchitectures
{
    /// <summary>
    /// The bit x32 syscalls carry in their number on x86_64 (__X32_SYSCALL_BIT). Filters for x86_64 treat a
    /// number with it (or above it) as a foreign architecture: x32 is a different ABI with its own numbers.
    /// </summary>
    public const uint X32SyscallBit = 0x40000000;

    /// <summary>
    /// The syscall number -1 as the filter sees it: what a ptrace tracer sets to skip a syscall (the kernel then
    /// runs the filters again). It is not an x32 call: it gets the default action, as with libseccomp.
    /// </summary>
    public const uint SkippedSyscall = 0xFFFFFFFF;

    /// <summary>Every architecture filters can be compiled for.</summary>
    public static IReadOnlyList<SeccompArchitecture> All { get; } = [SeccompArchitecture.X86_64, SeccompArchitecture.Aarch64];

    /// <summary>The architecture of this process, or null when filters cannot be compiled for it.</summary>
    public static SeccompArchitecture? Native { get; } = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => SeccompArchitecture.X86_64,
        Architecture.Arm64 => SeccompArchitecture.Aarch64,
        _ => null,
    };

    /// <summary>The name used in messages ("x86_64", "aarch64").</summary>
    public static string DisplayName(this SeccompArchitecture architecture) => architecture switch
    {
        SeccompArchitecture.X86_64 => "x86_64",
        SeccompArchitecture.Aarch64 => "aarch64",
        _ => $"0x{(uint)architecture:X8}",
    };
}
