using System.Globalization;
using Sandbox.Cgroups;
using Sandbox.Cgroups.V2;

namespace Sandbox.Tests.Cgroups;

/// <summary>
/// A fake machine with cgroup v2 mounted at /sys/fs/cgroup, acting like the kernel for what the driver does: control
/// files appear per enabled controller (in the kernel's initial formats), cgroup.procs moves processes, the
/// "no internal processes" rule, cgroup.subtree_control, cgroup.kill, cgroup.freeze, cgroup.events populated, and
/// value checks on the limit files.
/// </summary>
internal sealed class FakeCgroupV2Host : IProcessKiller
{
    public const string Mount = "/sys/fs/cgroup";

    private readonly Lock _gate = new();

    public FakeCgroupV2Host(
        string ownCgroup = "/", string rootControllers = "cpuset cpu io memory hugetlb pids rdma misc",
        string rootSubtreeControl = "cpu io memory pids", bool hasKill = true, bool hasSwapAccounting = true, bool hasMemoryPeak = true)
    {
        HasKill = hasKill;
        HasSwapAccounting = hasSwapAccounting;
        HasMemoryPeak = hasMemoryPeak;
        FileSystem = new FakeCgroupFileSystem
        {
            MountInfo =
                "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
                + "23 27 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
                + "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
                + "31 23 0:28 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
            ProcSelfCgroup = $"0::{ownCgroup}\n",
        };
        FakeProc.InstallSelf(FileSystem);
        FileSystem.AddDirectory(Mount);
        FileSystem.SetFile(Mount + "/cgroup.controllers", rootControllers + "\n");
        FileSystem.SetFile(Mount + "/cgroup.subtree_control", rootSubtreeControl + "\n");
        FileSystem.SetFile(Mount + "/cgroup.procs", "");
        FileSystem.SetFile(Mount + "/cgroup.max.depth", "max\n");
        FileSystem.SetFile(Mount + "/cpu.stat", "usage_usec 176603701\nuser_usec 136457969\nsystem_usec 40145732\nnice_usec 0\n");
        FileSystem.CreateHook = OnCreate;
        FileSystem.WriteHook = OnWrite;
        FileSystem.RemoveCheck = dir => Pids(dir).Count > 0 ? CgroupIOException.EBUSY : null;
        foreach (string level in Levels(ownCgroup))
        {
            FileSystem.CreateDirectory(Mount + level);
        }
        FileSystem.Log.Clear();
        Spawn(HostPid, Mount + CgroupPaths.Normalize(ownCgroup).TrimEnd('/'));
    }

    /// <summary>The fake host's own pid.</summary>
    public const int HostPid = 4242;

    public FakeCgroupFileSystem FileSystem { get; }

    public bool HasKill { get; }

    public bool HasSwapAccounting { get; }

    public bool HasMemoryPeak { get; }

    /// <summary>Live processes and the cgroup directory each is in.</summary>
    public Dictionary<int, string> Processes { get; } = [];

    /// <summary>Pids killed through cgroup.kill or <see cref="Kill"/>, in order.</summary>
    public List<int> Killed { get; } = [];

    /// <summary>Pids <see cref="Kill"/> was called with (the fallback path).</summary>
    public List<int> KillCalls { get; } = [];

    public CgroupLayout Detect(CgroupOptions? options = null, uint euid = 0) =>
        CgroupLayoutDetector.Detect(FileSystem, euid, options);

    public CgroupV2Driver CreateDriver(CgroupOptions? options = null)
    {
        options ??= FastOptions;
        CgroupLayout layout = Detect(options);
        return (CgroupV2Driver)CgroupDriverFactory.Create(layout, FileSystem, options, this);
    }

    /// <summary>Options with short timeouts, so failing waits end quickly.</summary>
    public static CgroupOptions FastOptions { get; } = new()
    {
        PollInterval = TimeSpan.Zero,
        KillTimeout = TimeSpan.FromMilliseconds(200),
        RemoveTimeout = TimeSpan.FromMilliseconds(50),
    };

    /// <summary>Starts a fake process in <paramref name="directory"/>.</summary>
    public void Spawn(int pid, string directory)
    {
        lock (_gate)
        {
            Processes[pid] = directory;
        }
        RefreshProcs();
    }

    public void Kill(int pid)
    {
        lock (_gate)
        {
            KillCalls.Add(pid);
            if (Processes.Remove(pid))
            {
                Killed.Add(pid);
            }
        }
        RefreshProcs();
    }

    /// <summary>The pids directly in <paramref name="directory"/>.</summary>
    public IReadOnlyList<int> Pids(string directory)
    {
        lock (_gate)
        {
            return [.. Processes.Where(p => p.Value == directory).Select(p => p.Key).Order()];
        }
    }

    private static IEnumerable<string> Levels(string cgroup)
    {
        string path = "";
        foreach (string part in cgroup.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            path += "/" + part;
            yield return path;
        }
    }

    private void OnCreate(string directory)
    {
        string parent = FakeCgroupFileSystem.Parent(directory)!;
        string controllers = (FileSystem.Peek(parent + "/cgroup.subtree_control") ?? "").Trim();
        string[] enabled = controllers.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        FileSystem.SetFile(directory + "/cgroup.type", "domain\n");
        FileSystem.SetFile(directory + "/cgroup.procs", "");
        FileSystem.SetFile(directory + "/cgroup.threads", "");
        FileSystem.SetFile(directory + "/cgroup.controllers", controllers + "\n");
        FileSystem.SetFile(directory + "/cgroup.subtree_control", "\n");
        FileSystem.SetFile(directory + "/cgroup.events", "populated 0\nfrozen 0\n");
        FileSystem.SetFile(directory + "/cgroup.freeze", "0\n");
        if (HasKill)
        {
            FileSystem.SetFile(directory + "/cgroup.kill", "");
        }
        FileSystem.SetFile(directory + "/cpu.stat", enabled.Contains("cpu")
            ? "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnice_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n"
            : "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnice_usec 0\n");
        if (enabled.Contains("memory"))
        {
            FileSystem.SetFile(directory + "/memory.current", "0\n");
            FileSystem.SetFile(directory + "/memory.max", "max\n");
            FileSystem.SetFile(directory + "/memory.high", "max\n");
            FileSystem.SetFile(directory + "/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
            if (HasMemoryPeak)
            {
                FileSystem.SetFile(directory + "/memory.peak", "0\n");
            }
            if (HasSwapAccounting)
            {
                FileSystem.SetFile(directory + "/memory.swap.max", "max\n");
                FileSystem.SetFile(directory + "/memory.swap.current", "0\n");
            }
        }
        if (enabled.Contains("pids"))
        {
            FileSystem.SetFile(directory + "/pids.max", "max\n");
            FileSystem.SetFile(directory + "/pids.current", "0\n");
            FileSystem.SetFile(directory + "/pids.peak", "0\n");
            FileSystem.SetFile(directory + "/pids.events", "max 0\n");
        }
        if (enabled.Contains("cpu"))
        {
            FileSystem.SetFile(directory + "/cpu.max", "max 100000\n");
            FileSystem.SetFile(directory + "/cpu.weight", "100\n");
        }
        if (enabled.Contains("cpuset"))
        {
            FileSystem.SetFile(directory + "/cpuset.cpus", "\n");
            FileSystem.SetFile(directory + "/cpuset.mems", "\n");
            FileSystem.SetFile(directory + "/cpuset.cpus.effective", "0-3\n");
        }
        if (enabled.Contains("io"))
        {
            FileSystem.SetFile(directory + "/io.max", "");
        }
    }

    private bool OnWrite(string path, string text)
    {
        string directory = FakeCgroupFileSystem.Parent(path)!;
        string file = path[(directory.Length + 1)..];
        string value = text.Trim();
        switch (file)
        {
            case "cgroup.procs":
                int pid = int.Parse(value, CultureInfo.InvariantCulture);
                lock (_gate)
                {
                    if (!Processes.ContainsKey(pid))
                    {
                        throw new CgroupIOException("write", path, CgroupIOException.ESRCH);
                    }
                }
                if (directory != Mount && (FileSystem.Peek(directory + "/cgroup.subtree_control") ?? "").Trim().Length > 0)
                {
                    throw new CgroupIOException("write", path, CgroupIOException.EBUSY);
                }
                Spawn(pid, directory);
                return true;
            case "cgroup.subtree_control":
                var enabled = (FileSystem.Peek(path) ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).ToList();
                string[] available = (FileSystem.Peek(directory + "/cgroup.controllers") ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                foreach (string token in value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    string controller = token[1..];
                    if (!available.Contains(controller))
                    {
                        throw new CgroupIOException("write", path, CgroupIOException.ENOENT);
                    }
                    if (directory != Mount && Pids(directory).Count > 0)
                    {
                        throw new CgroupIOException("write", path, CgroupIOException.EBUSY);
                    }
                    if (token[0] == '+' && !enabled.Contains(controller))
                    {
                        enabled.Add(controller);
                    }
                    else if (token[0] == '-')
                    {
                        enabled.Remove(controller);
                    }
                }
                FileSystem.SetFile(path, string.Join(' ', enabled) + "\n");
                return true;
            case "cgroup.kill":
                lock (_gate)
                {
                    foreach (int victim in Processes.Where(p => p.Value == directory || p.Value.StartsWith(directory + "/", StringComparison.Ordinal)).Select(p => p.Key).ToArray())
                    {
                        Processes.Remove(victim);
                        Killed.Add(victim);
                    }
                }
                RefreshProcs();
                return true;
            case "cgroup.freeze":
                FileSystem.SetFile(directory + "/cgroup.events", $"populated {(Pids(directory).Count > 0 ? 1 : 0)}\nfrozen {value}\n");
                FileSystem.SetFile(path, value + "\n");
                return true;
            case "memory.max" or "memory.swap.max" or "pids.max":
                if (!CgroupLimitValue.TryParse(value, out _))
                {
                    throw new CgroupIOException("write", path, CgroupIOException.EINVAL);
                }
                FileSystem.SetFile(path, value + "\n");
                return true;
            case "cpu.max":
                if (!CpuQuota.TryParseCpuMax(value, out CpuQuota quota) || quota.Validate() is not null)
                {
                    throw new CgroupIOException("write", path, CgroupIOException.EINVAL);
                }
                FileSystem.SetFile(path, quota.FormatCpuMax() + "\n");
                return true;
            case "cpu.weight":
                if (!int.TryParse(value, CultureInfo.InvariantCulture, out int weight) || weight is < 1 or > 10000)
                {
                    throw new CgroupIOException("write", path, 34);
                }
                FileSystem.SetFile(path, value + "\n");
                return true;
            case "cpuset.cpus" or "cpuset.mems":
                if (!CpuList.TryParse(value, out _))
                {
                    throw new CgroupIOException("write", path, CgroupIOException.EINVAL);
                }
                FileSystem.SetFile(path, value + "\n");
                return true;
            case "io.max":
                if (!IoMaxFormat.TryParseLine(value, out IoDeviceLimit? limit))
                {
                    throw new CgroupIOException("write", path, CgroupIOException.EINVAL);
                }
                var lines = IoMaxFormat.Parse(FileSystem.Peek(path) ?? "").Where(l => l.Device != limit!.Device).ToList();
                if (limit!.ReadBytesPerSecond is not null || limit.WriteBytesPerSecond is not null
                    || limit.ReadOperationsPerSecond is not null || limit.WriteOperationsPerSecond is not null)
                {
                    lines.Add(limit);
                }
                FileSystem.SetFile(path, string.Concat(lines.Select(l => IoMaxFormat.FormatLine(l) + "\n")));
                return true;
            default:
                return false;
        }
    }

    /// <summary>Rewrites every cgroup.procs and cgroup.events populated from <see cref="Processes"/>.</summary>
    private void RefreshProcs()
    {
        Dictionary<int, string> snapshot;
        lock (_gate)
        {
            snapshot = new(Processes);
        }
        foreach (string directory in FileSystem.AllDirectories().Where(d => d == Mount || d.StartsWith(Mount + "/", StringComparison.Ordinal)))
        {
            if (!FileSystem.Exists(directory + "/cgroup.procs"))
            {
                continue;
            }
            int[] here = [.. snapshot.Where(p => p.Value == directory).Select(p => p.Key).Order()];
            FileSystem.SetFile(directory + "/cgroup.procs", string.Concat(here.Select(p => p.ToString(CultureInfo.InvariantCulture) + "\n")));
            if (FileSystem.Peek(directory + "/cgroup.events") is { } events)
            {
                bool populated = snapshot.Values.Any(d => d == directory || d.StartsWith(directory + "/", StringComparison.Ordinal));
                string frozen = events.Contains("frozen 1", StringComparison.Ordinal) ? "1" : "0";
                FileSystem.SetFile(directory + "/cgroup.events", $"populated {(populated ? 1 : 0)}\nfrozen {frozen}\n");
            }
        }
    }
}
