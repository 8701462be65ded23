using System.Collections.Immutable;
using System.Globalization;
using Sandbox.Launch;

namespace Sandbox.Cgroups;

/// <summary>
/// The runner's use of cgroups: detects the host's layout once, sweeps cgroups left by dead hosts, and gives
/// each sandbox its own cgroup (unless its spec opts out) with its limits or the default process limit — or,
/// where cgroups cannot be used, nothing for a sandbox that asks for no limit, and for one that does, the
/// rlimits that approximate them if the spec allows it. Says exactly what was enforced and how.
/// </summary>
/// <param name="fileSystem">The cgroup file system.</param>
/// <param name="effectiveUserId">The host's effective uid.</param>
/// <param name="options">Where sandbox cgroups go (default: <see cref="CgroupOptions.Default"/>).</param>
/// <param name="launches">
/// The runner's launches in flight: given, cgroups are made ahead of time between launches (<see cref="PreparedCgroups"/>);
/// null, every cgroup is made at its launch.
/// </param>
internal sealed class SandboxCgroups(ICgroupFileSystem fileSystem, uint effectiveUserId, CgroupOptions? options = null, Launch.LaunchActivity? launches = null) : IDisposable
{
    private const uint RlimitCpu = 0, RlimitFsize = 1, RlimitStack = 3, RlimitAs = 9;

    private readonly Lazy<(ICgroupDriver? Driver, CgroupLayout Layout)> _driver = new(() =>
    {
        var layout = CgroupLayoutDetector.Detect(fileSystem, effectiveUserId, options);
        if (!layout.IsUsable) return (null, layout);
        var driver = CgroupDriverFactory.Create(layout, fileSystem, options);
        _ = driver.RemoveStaleAsync();
        return (driver, layout);
    });

    /// <summary>The last sandbox id given out in this process: ids (and so cgroup names) are unique across runners.</summary>
    private static long s_next;
    private readonly object _preparedGate = new();
    private PreparedCgroups? _prepared;
    private bool _disposed;

    /// <summary>The limits of a sandbox that sets none: the default process limit.</summary>
    public static CgroupLimits DefaultLimits { get; } = new() { MaxProcesses = SandboxSpec.DefaultProcessLimit };

    /// <summary>
    /// The default limits this host's cgroups can hold: a default applies where its controller is offered (a v2 parent
    /// may lack pids, as on a hybrid host's cgroup2 hierarchy); a limit the spec asks for is never dropped this way.
    /// </summary>
    private static CgroupLimits DefaultLimitsOn(CgroupLayout layout) => layout.Offers(PidsController.Name) ? DefaultLimits : CgroupLimits.None;

    /// <summary>The cgroups made ahead of time, or null (no pool, or no usable cgroups).</summary>
    internal PreparedCgroups? Prepared
    {
        get
        {
            if (launches is null || _driver.Value.Driver is not { } driver) return null;
            lock (_preparedGate)
            {
                if (_prepared is null && !_disposed)
                    _prepared = new PreparedCgroups(driver, DefaultLimitsOn(_driver.Value.Layout), NextId, launches);
                return _prepared;
            }
        }
    }

    private string NextId() => string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}.{Interlocked.Increment(ref s_next)}");

    /// <summary>Removes the cgroups made ahead of time.</summary>
    public void Dispose()
    {
        PreparedCgroups? prepared;
        lock (_preparedGate)
        {
            _disposed = true;
            prepared = _prepared;
        }
        prepared?.Dispose();
    }

    /// <summary>What a sandbox gets: its cgroup (if any), the rlimits to add, and what is enforced.</summary>
    public sealed record Assignment(ISandboxCgroup? Cgroup, ImmutableArray<ResourceLimit> ResourceLimits, ImmutableArray<EnforcedLimit> Enforced);

    /// <summary>Where the kernel lists the online CPUs.</summary>
    public const string OnlineCpusPath = "/sys/devices/system/cpu/online";

    /// <summary>
    /// What is wrong with the spec's CPU set and I/O devices on this host (CPUs that are not online, devices that are not
    /// whole disks), each naming the value and the fix; empty when nothing is. Values the spec's own validation rejects
    /// are skipped here.
    /// </summary>
    public IReadOnlyList<string> HostProblems(SandboxSpec spec)
    {
        var problems = new List<string>();
        if (spec.CpuSet is { } cpuSet && CpuList.TryParse(cpuSet, out var cpus) && cpus.Count > 0
            && CgroupFiles.TryRead(fileSystem, OnlineCpusPath) is { } onlineText && CpuList.TryParse(onlineText, out var online))
        {
            var offline = cpus.Where(c => !online.Contains(c)).ToList();
            if (offline.Count > 0)
                problems.Add($"CpuSet '{cpuSet}' names CPU {CpuList.Format(offline)}, which {(offline.Count == 1 ? "is" : "are")} not online on this host (online: {CpuList.Format(online)}): choose among those.");
        }
        ResolveIo(spec, problems);
        return problems;
    }

    /// <summary>The spec's I/O limits with each device resolved to its disk's number; problems for those that cannot be.</summary>
    private List<IoDeviceLimit> ResolveIo(SandboxSpec spec, List<string> problems)
    {
        var resolved = new List<IoDeviceLimit>();
        if (spec.IoLimits.IsDefaultOrEmpty)
            return resolved;
        var seen = new Dictionary<DeviceNumber, string>();
        foreach (var io in spec.IoLimits)
        {
            if (io is null || io.Problems().Any())
                continue;
            if (BlockDeviceResolver.Resolve(fileSystem, io.Device, out string? problem) is not { } device)
            {
                problems.Add(problem!);
                continue;
            }
            if (seen.TryGetValue(device, out string? other))
            {
                problems.Add($"I/O limit devices '{other}' and '{io.Device}' are the same disk ({device}): give it one limit, with all its figures.");
                continue;
            }
            seen[device] = io.Device;
            resolved.Add(new IoDeviceLimit(device, io.ReadBytesPerSecond, io.WriteBytesPerSecond, io.ReadOperationsPerSecond, io.WriteOperationsPerSecond));
        }
        return resolved;
    }

    public Assignment Assign(SandboxSpec spec)
    {
        var rlimits = ImmutableArray.CreateBuilder<ResourceLimit>();
        var enforced = ImmutableArray.CreateBuilder<EnforcedLimit>();
        if (spec.FileSizeLimitBytes is { } fsize)
            Rlimit(RlimitFsize, fsize, "file size");
        if (spec.StackLimitBytes is { } stack)
            Rlimit(RlimitStack, stack, "stack");

        if (!spec.NeedsCgroup && !spec.UsesOwnCgroup)
            return new Assignment(null, rlimits.ToImmutable(), enforced.ToImmutable());

        var (driver, layout) = _driver.Value;
        if (driver is null)
        {
            // The default cgroup is had where the host can make one; no limit was asked for, so none goes unenforced.
            if (!spec.NeedsCgroup)
                return new Assignment(null, rlimits.ToImmutable(), enforced.ToImmutable());
            if (!spec.AllowRlimitFallback)
                throw new SandboxUnsupportedException(
                    "cgroups for the limits this sandbox asks for (" + string.Join(", ", spec.CgroupLimitNames()) + ")",
                    string.Join(" ", layout.Problems.Select(p => p.What + (p.Fix is null ? "" : " " + p.Fix))) +
                    " Or allow rlimits instead with WithRlimitFallback() (--rlimit-fallback): memory becomes RLIMIT_AS and CPU time RLIMIT_CPU per process; a process limit, a CPU quota, a CPU set and I/O limits are then not enforced.");
            if (spec.MemoryLimitBytes is { } memory)
                Rlimit(RlimitAs, (ulong)memory, "memory (address space, per process)");
            if (spec.CpuTimeLimit is { } cpu)
            {
                // SIGXCPU at the limit, SIGKILL a second later if the program ignores it.
                ulong seconds = (ulong)Math.Ceiling(cpu.TotalSeconds);
                rlimits.Add(new ResourceLimit(RlimitCpu, seconds, seconds + 1));
                enforced.Add(new EnforcedLimit("CPU time (whole seconds, per process)", string.Create(CultureInfo.InvariantCulture, $"rlimit {RlimitCpu}={seconds}")));
            }
            return new Assignment(null, rlimits.ToImmutable(), enforced.ToImmutable());
        }

        var ioProblems = new List<string>();
        var limits = new CgroupLimits
        {
            MemoryBytes = spec.MemoryLimitBytes,
            MaxProcesses = spec.ProcessLimit ?? DefaultLimitsOn(layout).MaxProcesses,
            CpuQuota = spec.CpuQuota is { } cpus ? Cgroups.CpuQuota.FromCpus(cpus) : null,
            Cpus = spec.CpuSet,
            MemoryNodes = spec.MemoryNodeSet,
            Io = ResolveIo(spec, ioProblems),
        };
        if (ioProblems.Count > 0)
            throw new SandboxValidationException(ioProblems);
        var cgroup = FromPrepared(driver, limits) ?? driver.Create(NextId(), limits);
        foreach (var e in cgroup.Enforced)
            enforced.Add(new EnforcedLimit(e.Limit, e.Mechanism));
        if (spec.CpuTimeLimit is { } limit)
            enforced.Add(new EnforcedLimit("cpu time", $"cgroup v{cgroup.Version} CPU usage polled every {CpuTimePollInterval.TotalMilliseconds:0} ms, limit {limit.TotalMilliseconds:0} ms"));
        return new Assignment(cgroup, rlimits.ToImmutable(), enforced.ToImmutable());

        void Rlimit(uint resource, ulong value, string what)
        {
            rlimits.Add(new ResourceLimit(resource, value, value));
            enforced.Add(new EnforcedLimit(what, string.Create(CultureInfo.InvariantCulture, $"rlimit {resource}={value}")));
        }
    }

    /// <summary>
    /// A cgroup made ahead of time for <paramref name="limits"/>: one made with exactly them, or a default one with them
    /// written in; null when none is ready or the driver cannot.
    /// </summary>
    private ISandboxCgroup? FromPrepared(ICgroupDriver driver, CgroupLimits limits)
    {
        if (Prepared is not { } prepared || prepared.TryTake(limits, out bool exact) is not { } ready)
            return null;
        if (exact)
            return ready;
        ISandboxCgroup? applied = null;
        try
        {
            applied = driver.TryApply(ready, limits);
            return applied;
        }
        finally
        {
            if (applied is null)
                _ = ready.RemoveAsync(); // unjoined and empty: the rmdirs succeed at once
        }
    }

    /// <summary>How often a CPU-time limit is checked against the cgroup's usage.</summary>
    public static TimeSpan CpuTimePollInterval { get; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The cgroup's accounting as the public <see cref="ResourceUsage"/>.</summary>
    public static ResourceUsage ToUsage(CgroupUsage usage) => new(
        usage.CpuTime ?? TimeSpan.Zero,
        usage.UserCpuTime ?? TimeSpan.Zero,
        usage.SystemCpuTime ?? TimeSpan.Zero,
        usage.PeakMemoryBytes,
        usage.PeakMemorySource switch
        {
            PeakMemorySource.CgroupV2MemoryPeak => MemorySource.CgroupV2MemoryPeak,
            PeakMemorySource.CgroupV1MaxUsageInBytes => MemorySource.CgroupV1MaxUsage,
            _ => MemorySource.None,
        },
        usage.OomKills is > 0,
        usage.PeakProcesses,
        usage.CpuTime is null ? CpuTimeSource.None : CpuTimeSource.Cgroup);
}
