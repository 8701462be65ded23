namespace Sandbox.Seccomp;

/// <summary>
/// An architecture a seccomp filter is compiled for; each value is the kernel's AUDIT_ARCH_* constant, which
/// the filter compares with <c>seccomp_data.arch</c> before anything else.
/// </summary>
#pragma warning disable CA1028 // the values are the kernel's 32-bit AUDIT_ARCH constants
public enum SeccompArchitecture : uint
#pragma warning restore CA1028
{
    /// <summary>x86_64 (AUDIT_ARCH_X86_64): 64-bit little-endian, EM_X86_64.</summary>
    X86_64 = 0xC000003E,

    /// <summary>aarch64 (AUDIT_ARCH_AARCH64): 64-bit little-endian, EM_AARCH64.</summary>
    Aarch64 = 0xC00000B7,
}
