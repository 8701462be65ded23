namespace Sandbox.Seccomp.Profiles;

/// <summary>How <see cref="DockerProfileImporter"/> reads a profile: for which architecture, capabilities and kernel.</summary>
public sealed record DockerProfileOptions
{
    /// <summary>The architecture the policy is for: decides <c>includes.arches</c>/<c>excludes.arches</c> (default: this process's).</summary>
    public SeccompArchitecture Architecture { get; init; } = SeccompArchitectures.Native ?? SeccompArchitecture.X86_64;

    /// <summary>
    /// The capabilities the sandboxed program holds ("CAP_SYS_ADMIN"...): decide <c>includes.caps</c> and
    /// <c>excludes.caps</c>. A sandbox drops every capability, so the default is none.
    /// </summary>
    public IReadOnlySet<string> Capabilities { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The kernel version <c>minKernel</c> is compared with; null counts every minKernel as met.</summary>
    public Version? KernelVersion { get; init; }

    /// <summary>
    /// Whether a syscall name that no supported architecture has is an error. Docker ignores such names
    /// (profiles list the syscalls of every architecture: chown32, s390_runtime_instr...); so does the
    /// importer by default, reporting them in <see cref="ImportedSeccompProfile.UnknownSyscalls"/>.
    /// </summary>
    public bool RejectUnknownSyscalls { get; init; }
}
