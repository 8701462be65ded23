using Sandbox.Cgroups;

namespace Sandbox.Diagnostics;

/// <summary>What several checks share, read once: the kernel release, this process's credentials, the mounts and cgroups.</summary>
internal sealed class HostFacts
{
    public const string OsReleasePath = "/proc/sys/kernel/osrelease";

    public HostFacts(IHostFiles files)
    {
        Files = files;
        Release = files.TryReadText(OsReleasePath)?.Trim();
        Kernel = KernelVersion.TryParse(Release, out var version) ? version : null;
        Status = files.TryReadText(ProcStatus.Path);
        Credentials = ProcessCredentials.Parse(Status);
        MountInfo = files.TryReadText(MountInfoPath);
        ProcSelfCgroup = files.TryReadText(ProcSelfCgroupPath);
        CgroupView = new HostCgroupView(files, Credentials);
        // The driver's own detection, with its default parent and controllers: what doctor says is what RunAsync will find.
        Cgroups = CgroupLayoutDetector.Detect(CgroupView, Credentials?.Uid ?? uint.MaxValue);
    }

    public const string MountInfoPath = "/proc/self/mountinfo";

    public const string ProcSelfCgroupPath = "/proc/self/cgroup";

    public IHostFiles Files { get; }

    /// <summary>The text of /proc/sys/kernel/osrelease (e.g. <c>6.8.0-45-generic</c>), or null.</summary>
    public string? Release { get; }

    /// <summary>The version in <see cref="Release"/>, or null if it could not be read.</summary>
    public KernelVersion? Kernel { get; }

    /// <summary>The text of /proc/self/status, or null.</summary>
    public string? Status { get; }

    public ProcessCredentials? Credentials { get; }

    /// <summary>The text of /proc/self/mountinfo, or null.</summary>
    public string? MountInfo { get; }

    /// <summary>The cgroup layout as the cgroup drivers detect it (<see cref="CgroupLayoutDetector"/>).</summary>
    public CgroupLayout Cgroups { get; }

    /// <summary>The read-only view detection read through, with what its writability checks found.</summary>
    public HostCgroupView CgroupView { get; }

    /// <summary>The text of /proc/self/cgroup, or null.</summary>
    public string? ProcSelfCgroup { get; }

    /// <summary>"Linux 6.8.0-45-generic", or "this kernel" when the release is unknown.</summary>
    public string KernelName => Release is null ? "this kernel" : $"Linux {Release}";

    /// <summary>"uid 1000", or "this user" when the credentials are unknown.</summary>
    public string UserName => Credentials is { } c ? $"uid {c.Uid}" : "this user";

    /// <summary>"This user (uid 1000)": the subject of a finding's sentence.</summary>
    public string Subject => Credentials is { } c ? $"This user (uid {c.Uid})" : "This user";
}
