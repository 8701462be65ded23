using Sandbox.Interop;

namespace Sandbox.Launch;

/// <summary>
/// What the launcher says about the cgroup join, as the result reports it: how the sandbox joined its cgroup and, on
/// cgroup v2, why it fell back from clone3(CLONE_INTO_CGROUP) to a cgroup.procs write. The fallback is not an error
/// (the child still joined before it ran any of the sandbox's code), but it is never silent.
/// </summary>
internal static class CgroupJoinReport
{
    private const int E2BIG = 7, EINVAL = 22, ENOSYS = 38;

    /// <summary><paramref name="isolation"/> with <see cref="AppliedIsolation.CgroupJoin"/> and its fallback filled in from <paramref name="launched"/>.</summary>
    public static AppliedIsolation Apply(AppliedIsolation isolation, NativeLaunchResult launched) => isolation with
    {
        CgroupJoin = launched.CgroupJoin,
        CgroupJoinFallback = launched.CgroupJoin == CgroupJoinMethod.CgroupProcs ? DescribeFallback(launched.CgroupFallbackErrno) : null,
    };

    /// <summary>Why clone3(CLONE_INTO_CGROUP) was not used, from the errno it failed with; null for 0 (it was not tried).</summary>
    public static string? DescribeFallback(int errno) => errno switch
    {
        0 => null,
        ENOSYS => "clone3 failed with ENOSYS: the kernel predates it (Linux 5.3), or a seccomp filter around this host "
            + "(a container runtime's default profile, say) hides it; the host wrote cgroup.procs instead.",
        E2BIG or EINVAL => $"clone3 refused CLONE_INTO_CGROUP ({ErrnoNames.Of(errno)}): the kernel predates it (Linux 5.7); "
            + "the host wrote cgroup.procs instead.",
        _ => $"clone3(CLONE_INTO_CGROUP) failed with {ErrnoNames.Of(errno)}; the host wrote cgroup.procs instead.",
    };
}
