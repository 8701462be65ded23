using static Sandbox.Seccomp.SyscallArguments;

namespace Sandbox.Seccomp.Profiles;

/// <summary>
/// A stricter policy for running untrusted solutions (<see cref="SeccompPolicy.Judge"/>): the
/// <see cref="DefaultProfile"/> without sockets (socket and socketpair fail with EACCES) and, unless allowed,
/// without new processes: fork and vfork fail with EPERM and clone only makes threads (CLONE_THREAD set, no
/// namespace flags). A multi-threaded solution still runs; one that forks or opens a socket gets an error.
/// </summary>
public static class JudgeProfile
{
    /// <summary>The judge policy without new processes.</summary>
    public static SeccompPolicy Policy { get; } = Create(allowNewProcesses: false);

    /// <summary>The judge policy; <paramref name="allowNewProcesses"/> keeps fork, vfork and process-making clone as the default profile has them.</summary>
    public static SeccompPolicy Create(bool allowNewProcesses)
    {
        var builder = DefaultProfile.Builder()
            .Remove("socket", "socketpair")
            .Deny(["socket", "socketpair"], errno: LinuxErrno.EACCES);
        if (!allowNewProcesses)
        {
            builder.Remove("fork", "vfork", "clone")
                .Deny(["fork", "vfork"])
                .Allow("clone").When(Arg0.MaskedEquals(DefaultProfile.CloneThread | DefaultProfile.CloneNamespaceFlags, DefaultProfile.CloneThread))
                .Deny("clone");
        }
        return builder.Build();
    }
}
