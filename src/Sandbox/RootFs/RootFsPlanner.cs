using System.Collections.Immutable;
using System.Globalization;
using Sandbox.Interop;
using Sandbox.Launch;

namespace Sandbox.RootFs;

/// <summary>
/// Plans the default root file system and the user's mounts as ordered <see cref="MountOp"/>s: a tmpfs
/// root holding read-only binds of the host's system directories, a minimal /etc, /proc, a minimal /dev
/// and a writable /tmp, then the user's binds and tmpfs mounts. Pure: the host is read through
/// <see cref="IHostFileSystem"/>.
/// </summary>
internal sealed class RootFsPlanner(IHostFileSystem fs)
{
    /// <summary>The host directories every sandbox sees, read-only (or as the same symlink, on merged-/usr hosts).</summary>
    public static readonly ImmutableArray<string> SystemDirectories = ["/usr", "/bin", "/lib", "/lib64", "/sbin"];

    /// <summary>The host device nodes bound into the sandbox's /dev.</summary>
    public static readonly ImmutableArray<string> DeviceNodes = ["null", "zero", "full", "random", "urandom", "tty"];

    private const MountFlags ReadOnlyBind = MountFlags.ReadOnly | MountFlags.Recursive | MountFlags.NoSuid | MountFlags.NoDev;

    private readonly List<MountOp> _ops = [];
    private bool _mountPointLayer;
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal) { "/" };

    /// <summary>The mount plan for <paramref name="spec"/>, whose payload runs as <paramref name="identity"/>.</summary>
    public ImmutableArray<MountOp> Plan(SandboxSpec spec, IdentityView identity)
    {
        _ops.Clear();
        _directories.Clear();
        _directories.Add("/");
        _mountPointLayer = spec.Image is not null && spec.ImageSetupDirectory is not null;

        if (spec.Image is { } image)
        {
            // Writes go to a fresh tmpfs, or to the host directories of a writable layer ("UPPER:WORK") that a commit reads.
            bool onDisk = spec.ImageUpperDirectory is not null;
            // With a setup directory the runtime's mount points are a lower layer of their own, over the image's.
            var lowers = spec.ImageSetupDirectory is { } setup ? image.LowerDirectories.Insert(0, ImageSetupDirectory.MountPointsDirectory(setup)) : image.LowerDirectories;
            // userxattr: layers unpacked rootless, or root's (which carry user.overlay.* too) in a user namespace,
            // where an overlay cannot read trusted.overlay.*.
            bool userXattr = image.UserXattr || (image.CarriesUserXattr && spec.Namespaces.HasFlag(SandboxNamespaces.User));
            _ops.Add(new MountOp(MountOpKind.Overlay, "/", Source: string.Join(':', lowers),
                Data: onDisk ? $"{spec.ImageUpperDirectory}:{spec.ImageWorkDirectory}" : TmpfsOptions(spec.ImageWriteSizeBytes, FileModes.Mode0755),
                Flags: MountFlags.NoSuid | MountFlags.NoDev | (userXattr ? MountFlags.UserXattr : 0) | (onDisk ? MountFlags.DiskUpper : 0)));
            AddImageEtc(spec);
        }
        else
        {
            foreach (var dir in SystemDirectories)
                AddHostSystemPath(dir);
            AddEtc(spec, identity);
        }

        MakeDirectory("/proc", FileModes.Mode0555);
        _ops.Add(new MountOp(MountOpKind.Proc, "/proc", Flags: MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec));

        AddDev();

        MakeDirectory("/tmp", FileModes.Mode1777);
        _ops.Add(new MountOp(MountOpKind.Tmpfs, "/tmp", Data: TmpfsOptions(spec.TmpSizeBytes, FileModes.Mode1777), Flags: MountFlags.NoSuid | MountFlags.NoDev));

        foreach (var mount in spec.Mounts)
            AddUserMount(mount);

        return [.. _ops];
    }

    private void AddHostSystemPath(string path)
    {
        switch (fs.GetKind(path, out var identity))
        {
            case HostFileKind.Directory:
                MakeDirectory(path, FileModes.Mode0755);
                _ops.Add(new MountOp(MountOpKind.Bind, path, Source: path, Flags: ReadOnlyBind) { SourceIdentity = identity });
                break;
            case HostFileKind.Symlink:
                _ops.Add(new MountOp(MountOpKind.Symlink, path, Source: fs.ReadLink(path)));
                break;
        }
    }

    private void AddEtc(SandboxSpec spec, IdentityView identity)
    {
        MakeDirectory("/etc", FileModes.Mode0755);
        WriteFile("/etc/passwd", EtcFiles.Passwd(identity.Uid, identity.Gid));
        WriteFile("/etc/group", EtcFiles.Group(identity.Gid));
        WriteFile("/etc/hosts", EtcFiles.Hosts(spec.Hostname));
        WriteFile("/etc/nsswitch.conf", EtcFiles.NsSwitch);
        bool sharedNetwork = !spec.Namespaces.HasFlag(SandboxNamespaces.Network);
        WriteFile("/etc/resolv.conf", sharedNetwork ? fs.TryReadText("/etc/resolv.conf") ?? "" : EtcFiles.NoResolver);
        if (fs.GetKind("/etc/ld.so.cache", out var cache) == HostFileKind.RegularFile)
        {
            _ops.Add(new MountOp(MountOpKind.MakeFile, "/etc/ld.so.cache", Mode: FileModes.Mode0644));
            _ops.Add(new MountOp(MountOpKind.Bind, "/etc/ld.so.cache", Source: "/etc/ld.so.cache", Flags: ReadOnlyBind | MountFlags.Optional) { SourceIdentity = cache });
        }
    }

    /// <summary>
    /// On an image root the image's own /etc stays (its passwd and group name its users); only the host-facing files are the
    /// sandbox's: written through the overlay, or, with a setup directory, bound from it onto the mount points its lower layer
    /// holds (<see cref="ImageSetupDirectory"/>), so the upper directory never sees them.
    /// </summary>
    private void AddImageEtc(SandboxSpec spec)
    {
        if (spec.ImageSetupDirectory is { } setup)
        {
            var flags = MountFlags.NoSuid | MountFlags.NoDev | (spec.ReadOnlyRoot ? MountFlags.ReadOnly : 0);
            foreach (var (target, _) in ImageRuntimeFiles(spec, fs))
                _ops.Add(new MountOp(MountOpKind.Bind, target, Source: ImageSetupDirectory.FileSource(setup, target), Flags: flags));
            return;
        }
        MakeDirectory("/etc", FileModes.Mode0755);
        foreach (var (target, contents) in ImageRuntimeFiles(spec, fs))
            WriteFile(target, contents);
    }

    /// <summary>The targets of the spec's own mounts (normalised) and whether each is a directory (a tmpfs, or a bind of a host directory) or a file.</summary>
    public static ImmutableArray<(string Target, bool Directory)> MountTargets(SandboxSpec spec, IHostFileSystem fs) =>
    [
        .. spec.Mounts.Select(m => (SandboxPath.Normalize(m.Target),
            m is not BindMount bind || fs.GetKind(SandboxPath.Normalize(bind.Source)) == HostFileKind.Directory)),
    ];

    /// <summary>The files the sandbox's setup puts over an image root, whatever the image holds there: /etc/hosts (naming the hostname) and /etc/resolv.conf.</summary>
    public static ImmutableArray<(string Target, string Contents)> ImageRuntimeFiles(SandboxSpec spec, IHostFileSystem fs)
    {
        bool sharedNetwork = !spec.Namespaces.HasFlag(SandboxNamespaces.Network);
        return
        [
            ("/etc/hosts", EtcFiles.Hosts(spec.Hostname)),
            ("/etc/resolv.conf", sharedNetwork ? fs.TryReadText("/etc/resolv.conf") ?? "" : EtcFiles.NoResolver),
        ];
    }

    private void AddDev()
    {
        MakeDirectory("/dev", FileModes.Mode0755);
        _ops.Add(new MountOp(MountOpKind.Tmpfs, "/dev", Data: "size=64k,nr_inodes=64,mode=0755", Flags: MountFlags.NoSuid | MountFlags.NoExec));
        foreach (var node in DeviceNodes)
        {
            string host = "/dev/" + node;
            if (fs.GetKind(host, out var device) != HostFileKind.CharacterDevice) continue;
            _ops.Add(new MountOp(MountOpKind.MakeFile, host, Mode: FileModes.Mode0666));
            _ops.Add(new MountOp(MountOpKind.Bind, host, Source: host, Flags: MountFlags.NoSuid | MountFlags.NoExec | MountFlags.Optional) { SourceIdentity = device });
        }
        MakeDirectory("/dev/pts", FileModes.Mode0755);
        _ops.Add(new MountOp(MountOpKind.Devpts, "/dev/pts", Data: "newinstance,ptmxmode=0666,mode=0620", Flags: MountFlags.NoSuid | MountFlags.NoExec));
        _ops.Add(new MountOp(MountOpKind.Symlink, "/dev/ptmx", Source: "pts/ptmx"));
        MakeDirectory("/dev/shm", FileModes.Mode1777);
        _ops.Add(new MountOp(MountOpKind.Tmpfs, "/dev/shm", Data: "size=16m,mode=1777", Flags: MountFlags.NoSuid | MountFlags.NoDev));
        _ops.Add(new MountOp(MountOpKind.Symlink, "/dev/fd", Source: "/proc/self/fd"));
        _ops.Add(new MountOp(MountOpKind.Symlink, "/dev/stdin", Source: "/proc/self/fd/0"));
        _ops.Add(new MountOp(MountOpKind.Symlink, "/dev/stdout", Source: "/proc/self/fd/1"));
        _ops.Add(new MountOp(MountOpKind.Symlink, "/dev/stderr", Source: "/proc/self/fd/2"));
        _ops.Add(new MountOp(MountOpKind.Remount, "/dev", Flags: MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoExec));
    }

    private void AddUserMount(SandboxMount mount)
    {
        string target = SandboxPath.Normalize(mount.Target);
        foreach (var ancestor in SandboxPath.Ancestors(target))
            MakeDirectory(ancestor, FileModes.Mode0755);
        switch (mount)
        {
            case BindMount bind:
                string source = SandboxPath.Normalize(bind.Source);
                var kind = fs.GetKind(source, out var identity);
                if (kind == HostFileKind.Directory)
                    MakeDirectory(target, FileModes.Mode0755);
                else if (!_mountPointLayer) // there the target is the image's file or a placeholder: opening it to write would copy it up
                    _ops.Add(new MountOp(MountOpKind.MakeFile, target, Mode: FileModes.Mode0644));
                var flags = MountFlags.Recursive | MountFlags.NoSuid | MountFlags.NoDev | (bind.Writable ? 0 : MountFlags.ReadOnly);
                _ops.Add(new MountOp(MountOpKind.Bind, target, Source: source, Flags: flags) { SourceIdentity = identity });
                break;
            case TmpfsMount tmpfs:
                MakeDirectory(target, FileModes.Mode0755);
                _ops.Add(new MountOp(MountOpKind.Tmpfs, target, Data: TmpfsOptions(tmpfs.SizeBytes, FileModes.Mode1777), Flags: MountFlags.NoSuid | MountFlags.NoDev));
                break;
        }
    }

    private void MakeDirectory(string path, uint mode)
    {
        if (_directories.Add(path))
            _ops.Add(new MountOp(MountOpKind.MakeDirectory, path, Mode: mode));
    }

    private void WriteFile(string path, string contents) =>
        _ops.Add(new MountOp(MountOpKind.WriteFile, path, Data: contents, Mode: FileModes.Mode0644));

    /// <summary>tmpfs options for a size cap and mode, e.g. "size=67108864,mode=1777".</summary>
    public static string TmpfsOptions(long sizeBytes, uint mode) =>
        string.Create(CultureInfo.InvariantCulture, $"size={sizeBytes},mode={Convert.ToString(mode, 8)}");
}

/// <summary>The payload's ids as the sandbox's /etc should name them.</summary>
internal readonly record struct IdentityView(uint Uid, uint Gid);
