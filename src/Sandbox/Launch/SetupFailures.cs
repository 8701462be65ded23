using Sandbox.Interop;

namespace Sandbox.Launch;

/// <summary>Turns the launcher's (stage, errno, detail) into a <see cref="SandboxSetupException"/> that says how to fix it.</summary>
internal static class SetupFailures
{
    private const int EPERM = 1, ENOENT = 2, EACCES = 13, EEXIST = 17, ENOTDIR = 20, EINVAL = 22, ENOSPC = 28,
        EROFS = 30, ELOOP = 40, ENOSYS = 38, EUSERS = 87, ETIMEDOUT = 110;

    public static SandboxException From(NativeSetupError error, LaunchPlan plan)
    {
        var op = error.OpIndex >= 0 && error.OpIndex < plan.Mounts.Length ? plan.Mounts[error.OpIndex] : null;
        string path = op switch
        {
            { Kind: MountOpKind.Bind } when error.Stage is SetupStage.OpenBindSource => op.Source!,
            { Kind: MountOpKind.Overlay } when error.Stage is SetupStage.Overlay => error.Detail,
            not null => op.Target,
            null => error.Detail,
        };
        string? context = op is null ? null : $"mount step {error.OpIndex}: {op.Kind} {op.Target}" + (op.Source is null ? "" : $" <- {op.Source}");

        if (error.Stage == SetupStage.Clone && error.Errno is EPERM or ENOSPC or EUSERS or EINVAL)
            return new SandboxUnsupportedException(
                "creating the sandbox's namespaces (clone failed with " + ErrnoNames.Of(error.Errno) + ")",
                "User namespaces may be disabled or exhausted: check sysctl user.max_user_namespaces (> 0), " +
                "kernel.unprivileged_userns_clone (1 on Debian), kernel.apparmor_restrict_unprivileged_userns (0 on Ubuntu), " +
                "or run `sandbox doctor`.");
        if (error.Stage == SetupStage.Bind && error.Errno == ENOSYS)
            return new SandboxUnsupportedException("the new mount API (open_tree, move_mount, mount_setattr)", "Use Linux 5.12 or later.");

        return new SandboxSetupException(error.Stage, error.Errno, path, Fix(error, op), context);
    }

    private static string Fix(NativeSetupError error, MountOp? op) => (error.Stage, error.Errno) switch
    {
        (SetupStage.OpenBindSource, ENOENT) => "The bind source does not exist on the host: create it or correct the path.",
        (SetupStage.OpenBindSource, ELOOP) => "The bind source passes through a symbolic link, which Sandbox refuses to follow: name the path it resolves to (see `realpath`).",
        (SetupStage.OpenBindSource, EACCES) => "The host user cannot reach the bind source: grant it search permission on every directory on the way.",
        (SetupStage.ResolveTarget, ELOOP) => "The mount target passes through a symbolic link inside the sandbox, which Sandbox refuses to follow: choose a target whose every directory is a real directory.",
        (SetupStage.ResolveTarget, ENOENT) => "A directory on the way to the mount target does not exist and could not be created: mount its parent first.",
        (SetupStage.ResolveTarget, ENOTDIR) => "A component of the mount target is not a directory: choose another target.",
        (SetupStage.MakeDirectory or SetupStage.MakeFile, EROFS) => "The mount target would have to be created inside a read-only mount: choose a target that already exists there, or outside it.",
        (SetupStage.MakeDirectory or SetupStage.MakeFile, EEXIST) => "The mount target exists with another type: bind a directory onto a directory and a file onto a file.",
        (SetupStage.Bind, ENOTDIR) => "The bind source and target differ in type: bind a directory onto a directory and a file onto a file.",
        (SetupStage.Bind, EINVAL) => "The kernel refused the bind (an unbindable or locked mount): bind a path on another mount.",
        (SetupStage.Proc, EPERM) => "The kernel refused a new /proc: in a user namespace this needs an unobstructed /proc in the host's mount namespace (no paths masked over /proc, as some container runtimes do).",
        (SetupStage.WriteUidMap or SetupStage.WriteGidMap, EPERM) => "The kernel refused the id map: a rootless host may map only its own uid and gid; as root check HostIdentity.",
        (SetupStage.Chdir, ENOENT) => "The working directory does not exist inside the sandbox: bind or create it, or choose another WorkingDirectory.",
        (SetupStage.Chdir, EACCES) => "The sandbox user cannot enter the working directory: choose one it can reach.",
        (SetupStage.ExecPayload, ENOENT) => "The program was not found inside the sandbox: give its absolute path inside the sandbox, or bind the directory that holds it (and its interpreter or libraries).",
        (SetupStage.ExecPayload, EACCES) => "The program is not executable by the sandbox user, or lies on a noexec mount: check its mode and where it is mounted.",
        (SetupStage.ExecPayload, _) => "The program could not be executed inside the sandbox: check that it is a binary for this machine and that its interpreter exists in the sandbox.",
        (SetupStage.SetupTimeout, ETIMEDOUT) => "The setup did not finish within SetupTimeout: a bind source on a hung file system (NFS, FUSE) is the usual cause; raise SetupTimeout if the host is very loaded.",
        (SetupStage.Hostname, _) => "The hostname was refused: use letters, digits, '-' and '.' only.",
        (SetupStage.NetworkNamespace, _) => "The launcher thread could not enter or leave a network namespace made ahead of time: report this as a bug; meanwhile WithSharedNetwork() or running unprivileged avoids the prepared namespaces.",
        (SetupStage.Overlay, EINVAL or EPERM) when op is { LayerFds.IsDefaultOrEmpty: false } =>
            "The kernel refused root's idmapped image layers in the sandbox's user namespace: that needs Linux 6.13 or later " +
            "(overlayfs layers given as fds) and a layer file system that supports idmapped mounts (ext4, xfs, btrfs, tmpfs): " +
            "use a newer kernel, or run this image WithoutNamespaces(SandboxNamespaces.User).",
        (SetupStage.Overlay, ENOENT) => "A layer directory of the image is missing: the store was changed behind its back; import or pull the image again (and keep its ImageLease undisposed until the run ends).",
        (SetupStage.Overlay, EINVAL) => "The kernel refused the overlay: the layers must be on a file system overlayfs accepts as a lower layer (not overlayfs itself, nor one lacking d_type), and lowerdir+ needs Linux 6.8 or later.",
        (SetupStage.Overlay, EPERM or EACCES) => "The overlay was refused permission: a rootless sandbox needs layers unpacked rootless (user.overlay.* xattrs, readable by the host user), i.e. a store imported by that user.",
        (SetupStage.Overlay, ENOSPC) => "The image's writable layer is full: raise WithImageWriteSize.",
        (SetupStage.Overlay, _) => "The image's overlay could not be mounted: check the layer directories named above and run `sandbox doctor`.",
        (SetupStage.Clone, _) when error.Detail.StartsWith("clone3", StringComparison.Ordinal) =>
            "The kernel refused to start the sandbox inside its cgroup (clone3 with CLONE_INTO_CGROUP): the cgroup must be a leaf "
            + "of the cgroup v2 hierarchy without controllers enabled beneath it (EBUSY, EOPNOTSUPP), still there (ENODEV), and "
            + "writable by this host from its cgroup namespace (EACCES, ENOENT): run `sandbox doctor`.",
        (SetupStage.ExecInit, _) => "The sandbox-init executable next to Sandbox.dll could not be executed: rebuild the project so src/native is compiled, and keep it on an exec-permitted file system.",
        _ when op is not null => $"Step '{op.Kind}' of the mount plan failed: check the path named above.",
        _ => "This step should not fail on a supported kernel: run `sandbox doctor` and report the message if it finds nothing.",
    };
}
