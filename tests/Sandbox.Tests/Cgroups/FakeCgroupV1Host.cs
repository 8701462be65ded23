using System.Globalization;
using Sandbox.Cgroups;
using Sandbox.Cgroups.V1;

namespace Sandbox.Tests.Cgroups;

/// <summary>
/// A fake machine laid out like this one (hybrid: v1 controllers under /sys/fs/cgroup/*, an empty cgroup2 at
/// /sys/fs/cgroup/unified), with the control files and initial values this machine's kernel (6.18) creates, acting
/// like the kernel for what the driver does: per-hierarchy cgroup.procs, the cpuset ENOSPC rule, memsw ≥ limit,
/// page rounding, the freezer (FREEZING, then FROZEN on the next read; killed tasks die on thaw), value checks.
/// </summary>
internal sealed class FakeCgroupV1Host : IProcessKiller
{
    public const string Root = "/sys/fs/cgroup";

    /// <summary>The fake host's own pid.</summary>
    public const int HostPid = 4242;

    /// <summary>This machine's real /proc/self/mountinfo.</summary>
    public const string ThisMachineMountInfo = CgroupSamples.ThisMachineMountInfo;

    /// <summary>This machine's real /proc/self/cgroup.</summary>
    public const string ThisMachineProcSelfCgroup = CgroupSamples.ThisMachineProcSelfCgroup;

    public static readonly string[] Hierarchies = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"];

    private readonly Lock _gate = new();
    private readonly HashSet<int> _dying = [];

    public FakeCgroupV1Host(bool hasSwapAccounting = true, bool hasFreezer = true)
    {
        HasSwapAccounting = hasSwapAccounting;
        FileSystem = new FakeCgroupFileSystem
        {
            MountInfo = hasFreezer
                ? ThisMachineMountInfo
                : string.Join('\n', ThisMachineMountInfo.Split('\n').Where(l => !l.Contains("freezer", StringComparison.Ordinal))),
            ProcSelfCgroup = ThisMachineProcSelfCgroup,
        };
        FakeProc.InstallSelf(FileSystem, HostPid);
        foreach (string hierarchy in Hierarchies)
        {
            string root = $"{Root}/{hierarchy}";
            FileSystem.AddDirectory(root);
            FileSystem.SetFile(root + "/cgroup.procs", "");
            FileSystem.SetFile(root + "/tasks", "");
            FileSystem.SetFile(root + "/cgroup.sane_behavior", "0\n");
            FileSystem.SetFile(root + "/release_agent", "\n");
            if (hierarchy == "cpuset")
            {
                FileSystem.SetFile(root + "/cpuset.cpus", "0-1\n");
                FileSystem.SetFile(root + "/cpuset.mems", "0\n");
            }
        }
        FileSystem.AddDirectory(Root + "/unified");
        FileSystem.SetFile(Root + "/unified/cgroup.controllers", "hugetlb\n");
        FileSystem.SetFile(Root + "/unified/cgroup.subtree_control", "\n");
        FileSystem.SetFile(Root + "/unified/cgroup.procs", "");
        FileSystem.CreateHook = OnCreate;
        FileSystem.WriteHook = OnWrite;
        FileSystem.RemoveCheck = dir => PidsIn(dir).Count > 0 ? CgroupIOException.EBUSY : null;
        FileSystem.ReadHook = OnRead;
        FileSystem.CreateDirectory(Root + "/memory/process_api");
        FileSystem.CreateDirectory(Root + "/memory/process_api/3a6b84fbe5588cbafcd37f0b2681f126");
        FileSystem.Log.Clear();
        foreach (string hierarchy in Hierarchies)
        {
            Place(HostPid, hierarchy, hierarchy == "memory" ? $"{Root}/memory/process_api/3a6b84fbe5588cbafcd37f0b2681f126" : $"{Root}/{hierarchy}");
        }
    }

    public FakeCgroupFileSystem FileSystem { get; }

    public bool HasSwapAccounting { get; }

    /// <summary>Each live process's cgroup directory per hierarchy.</summary>
    public Dictionary<int, Dictionary<string, string>> Processes { get; } = [];

    /// <summary>Pids <see cref="Kill"/> was called with.</summary>
    public List<int> KillCalls { get; } = [];

    /// <summary>The pids of each <see cref="KillMembers"/> call, as pinned.</summary>
    public List<int[]> PinnedBatches { get; } = [];

    /// <summary>Processes that exit right after <see cref="KillMembers"/> pinned them (before the cgroup is listed again).</summary>
    public HashSet<int> ExitWhenPinned { get; } = [];

    /// <summary>Processes started in a sandbox cgroup right after a <see cref="KillMembers"/> pinned its pids, one per call.</summary>
    public Queue<(int Pid, CgroupV1SandboxCgroup Cgroup)> ForkWhenPinned { get; } = new();

    /// <summary>Processes started in a sandbox cgroup when the freezer thaws (a fork that raced the freeze), one per thaw.</summary>
    public Queue<(int Pid, CgroupV1SandboxCgroup Cgroup)> ForkOnThaw { get; } = new();

    /// <summary>Whether <see cref="Kill"/> was ever called while the victim's freezer cgroup was not frozen.</summary>
    public bool KilledWhileThawed { get; private set; }

    public CgroupLayout Detect(CgroupOptions? options = null, uint euid = 0) =>
        CgroupLayoutDetector.Detect(FileSystem, euid, options);

    public CgroupV1Driver CreateDriver(CgroupOptions? options = null)
    {
        options ??= FakeCgroupV2Host.FastOptions;
        return (CgroupV1Driver)CgroupDriverFactory.Create(Detect(options), FileSystem, options, this);
    }

    /// <summary>Starts a fake process in the named sandbox cgroup (under the default parents) in every hierarchy it has.</summary>
    public void SpawnInto(int pid, CgroupV1SandboxCgroup cgroup)
    {
        foreach (CgroupV1Placement placement in cgroup.Placements)
        {
            foreach (string controller in placement.Controllers)
            {
                Place(pid, controller, placement.Directory);
            }
        }
    }

    public void Place(int pid, string hierarchy, string directory)
    {
        lock (_gate)
        {
            if (!Processes.TryGetValue(pid, out Dictionary<string, string>? where))
            {
                Processes[pid] = where = new(StringComparer.Ordinal);
                foreach (string h in Hierarchies)
                {
                    where[h] = $"{Root}/{h}";
                }
            }
            where[hierarchy] = directory;
        }
        Refresh();
    }

    public void Kill(int pid)
    {
        lock (_gate)
        {
            KillCalls.Add(pid);
            if (!Processes.TryGetValue(pid, out Dictionary<string, string>? where))
            {
                return;
            }
            if (FreezerStateOf(where["freezer"]) == "FROZEN")
            {
                _dying.Add(pid); // SIGKILL is pending; the task dies when thawed.
                return;
            }
            KilledWhileThawed = true;
            Processes.Remove(pid);
        }
        Refresh();
    }

    /// <summary>Pins (records) the pids, lets the queued exits and forks happen, then kills the pids still listed.</summary>
    public void KillMembers(IReadOnlyList<int> pids, Func<IReadOnlyList<int>> members)
    {
        PinnedBatches.Add([.. pids]);
        foreach (int pid in pids.Where(ExitWhenPinned.Contains))
        {
            lock (_gate)
            {
                Processes.Remove(pid);
            }
            Refresh();
        }
        if (ForkWhenPinned.TryDequeue(out var fork))
        {
            SpawnInto(fork.Pid, fork.Cgroup);
        }
        var listed = members().ToHashSet();
        foreach (int pid in pids.Where(listed.Contains))
        {
            Kill(pid);
        }
    }

    /// <summary>The pids directly in <paramref name="directory"/>.</summary>
    public IReadOnlyList<int> PidsIn(string directory)
    {
        string hierarchy = directory[(Root.Length + 1)..].Split('/')[0];
        lock (_gate)
        {
            return [.. Processes.Where(p => p.Value.GetValueOrDefault(hierarchy) == directory).Select(p => p.Key).Order()];
        }
    }

    private string FreezerStateOf(string directory) => (FileSystem.Peek(directory + "/freezer.state") ?? "THAWED").Trim();

    private void OnCreate(string directory)
    {
        string hierarchy = directory[(Root.Length + 1)..].Split('/')[0];
        if (hierarchy == "unified")
        {
            return;
        }
        FileSystem.SetFile(directory + "/cgroup.procs", "");
        FileSystem.SetFile(directory + "/tasks", "");
        FileSystem.SetFile(directory + "/cgroup.clone_children", "0\n");
        FileSystem.SetFile(directory + "/notify_on_release", "0\n");
        switch (hierarchy)
        {
            case "memory":
                FileSystem.SetFile(directory + "/memory.limit_in_bytes", "9223372036854771712\n");
                FileSystem.SetFile(directory + "/memory.soft_limit_in_bytes", "9223372036854771712\n");
                FileSystem.SetFile(directory + "/memory.max_usage_in_bytes", "0\n");
                FileSystem.SetFile(directory + "/memory.usage_in_bytes", "0\n");
                FileSystem.SetFile(directory + "/memory.failcnt", "0\n");
                FileSystem.SetFile(directory + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
                FileSystem.SetFile(directory + "/memory.swappiness", "60\n");
                FileSystem.SetFile(directory + "/memory.use_hierarchy", "1\n");
                if (HasSwapAccounting)
                {
                    FileSystem.SetFile(directory + "/memory.memsw.limit_in_bytes", "9223372036854771712\n");
                    FileSystem.SetFile(directory + "/memory.memsw.max_usage_in_bytes", "0\n");
                    FileSystem.SetFile(directory + "/memory.memsw.usage_in_bytes", "0\n");
                }
                break;
            case "pids":
                FileSystem.SetFile(directory + "/pids.max", "max\n");
                FileSystem.SetFile(directory + "/pids.current", "0\n");
                FileSystem.SetFile(directory + "/pids.peak", "0\n");
                FileSystem.SetFile(directory + "/pids.events", "max 0\n");
                break;
            case "cpu":
                FileSystem.SetFile(directory + "/cpu.cfs_quota_us", "-1\n");
                FileSystem.SetFile(directory + "/cpu.cfs_period_us", "100000\n");
                FileSystem.SetFile(directory + "/cpu.cfs_burst_us", "0\n");
                FileSystem.SetFile(directory + "/cpu.shares", "1024\n");
                FileSystem.SetFile(directory + "/cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\nburst_time 0\n");
                break;
            case "cpuacct":
                FileSystem.SetFile(directory + "/cpuacct.stat", "user 0\nsystem 0\n");
                FileSystem.SetFile(directory + "/cpuacct.usage", "0\n");
                FileSystem.SetFile(directory + "/cpuacct.usage_user", "0\n");
                FileSystem.SetFile(directory + "/cpuacct.usage_sys", "0\n");
                FileSystem.SetFile(directory + "/cpuacct.usage_all", "cpu user system\n0 0 0\n1 0 0\n");
                break;
            case "cpuset":
                FileSystem.SetFile(directory + "/cpuset.cpus", "\n");
                FileSystem.SetFile(directory + "/cpuset.mems", "\n");
                FileSystem.SetFile(directory + "/cpuset.effective_cpus", "\n");
                break;
            case "blkio":
                foreach ((string file, _) in BlkioThrottleEntry.Files)
                {
                    FileSystem.SetFile($"{directory}/{file}", "");
                }
                FileSystem.SetFile(directory + "/blkio.throttle.io_service_bytes", "Total 0\n");
                break;
            case "freezer":
                FileSystem.SetFile(directory + "/freezer.state", "THAWED\n");
                FileSystem.SetFile(directory + "/freezer.self_freezing", "0\n");
                FileSystem.SetFile(directory + "/freezer.parent_freezing", "0\n");
                break;
        }
    }

    private bool OnWrite(string path, string text)
    {
        string directory = FakeCgroupFileSystem.Parent(path)!;
        string file = path[(directory.Length + 1)..];
        string hierarchy = directory[(Root.Length + 1)..].Split('/')[0];
        string value = text.Trim();
        switch (file)
        {
            case "cgroup.procs" or "tasks":
                int pid = int.Parse(value, CultureInfo.InvariantCulture);
                lock (_gate)
                {
                    if (!Processes.ContainsKey(pid))
                    {
                        throw new CgroupIOException("write", path, CgroupIOException.ESRCH);
                    }
                }
                if (hierarchy == "cpuset"
                    && ((FileSystem.Peek(directory + "/cpuset.cpus") ?? "").Trim().Length == 0
                        || (FileSystem.Peek(directory + "/cpuset.mems") ?? "").Trim().Length == 0))
                {
                    throw new CgroupIOException("write", path, CgroupIOException.ENOSPC);
                }
                Place(pid, hierarchy, directory);
                return true;
            case "memory.limit_in_bytes" or "memory.memsw.limit_in_bytes":
                if (!V1MemoryLimit.TryParse(value, out long? bytes))
                {
                    throw new CgroupIOException("write", path, CgroupIOException.EINVAL);
                }
                long pages = bytes is { } b ? b / 4096 * 4096 : 9223372036854771712;
                long limit = file == "memory.limit_in_bytes" ? pages : V1MemoryLimit.Parse(FileSystem.Peek(directory + "/memory.limit_in_bytes")!) ?? 9223372036854771712;
                long memsw = file == "memory.memsw.limit_in_bytes" ? pages
                    : FileSystem.Peek(directory + "/memory.memsw.limit_in_bytes") is { } m ? V1MemoryLimit.Parse(m) ?? 9223372036854771712 : long.MaxValue;
                if (limit > memsw)
                {
                    throw new CgroupIOException("write", path, CgroupIOException.EINVAL);
                }
                FileSystem.SetFile(path, pages.ToString(CultureInfo.InvariantCulture) + "\n");
                return true;
            case "pids.max":
                if (!CgroupLimitValue.TryParse(value, out _))
                {
                    throw new CgroupIOException("write", path, CgroupIOException.EINVAL);
                }
                FileSystem.SetFile(path, value + "\n");
                return true;
            case "cpu.cfs_quota_us":
                if (!CfsQuota.TryParseQuota(value, out long? quota) || quota is < 1000)
                {
                    throw new CgroupIOException("write", path, CgroupIOException.EINVAL);
                }
                FileSystem.SetFile(path, (quota ?? -1).ToString(CultureInfo.InvariantCulture) + "\n");
                return true;
            case "cpu.cfs_period_us":
                if (!long.TryParse(value, CultureInfo.InvariantCulture, out long period) || period is < 1000 or > 1_000_000)
                {
                    throw new CgroupIOException("write", path, CgroupIOException.EINVAL);
                }
                FileSystem.SetFile(path, value + "\n");
                return true;
            case "cpu.shares":
                FileSystem.SetFile(path, Math.Max(2, long.Parse(value, CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture) + "\n");
                return true;
            case "cpuset.cpus" or "cpuset.mems":
                if (!CpuList.TryParse(value, out SortedSet<int> set))
                {
                    throw new CgroupIOException("write", path, CgroupIOException.EINVAL);
                }
                FileSystem.SetFile(path, CpuList.Format(set) + "\n");
                return true;
            case "freezer.state":
                SetFreezer(directory, value switch
                {
                    "FROZEN" => "FREEZING",
                    "THAWED" => "THAWED",
                    _ => throw new CgroupIOException("write", path, CgroupIOException.EINVAL),
                });
                if (value == "THAWED")
                {
                    Thawed();
                }
                return true;
            case var _ when file.StartsWith("blkio.throttle.", StringComparison.Ordinal) && file.EndsWith("_device", StringComparison.Ordinal):
                BlkioThrottleEntry entry = BlkioThrottleEntry.Parse(value).Single();
                var entries = BlkioThrottleEntry.Parse(FileSystem.Peek(path) ?? "").Where(e => e.Device != entry.Device).ToList();
                if (entry.Value != 0)
                {
                    entries.Add(entry);
                }
                FileSystem.SetFile(path, string.Concat(entries.Select(e => e.Format() + "\n")));
                return true;
            default:
                return false;
        }
    }

    private void SetFreezer(string directory, string state)
    {
        foreach (string d in FileSystem.AllDirectories().Where(d => d == directory || d.StartsWith(directory + "/", StringComparison.Ordinal)))
        {
            if (FileSystem.Exists(d + "/freezer.state"))
            {
                FileSystem.SetFile(d + "/freezer.state", state + "\n");
            }
        }
    }

    private void OnRead(string path)
    {
        // FREEZING becomes FROZEN once someone looks again, as tasks reach the refrigerator.
        if (path.EndsWith("/freezer.state", StringComparison.Ordinal) && FileSystem.Peek(path)?.Trim() == "FREEZING")
        {
            FileSystem.SetFile(path, "FROZEN\n");
        }
    }

    private void Thawed()
    {
        lock (_gate)
        {
            foreach (int pid in _dying)
            {
                Processes.Remove(pid);
            }
            _dying.Clear();
        }
        if (ForkOnThaw.TryDequeue(out (int Pid, CgroupV1SandboxCgroup Cgroup) fork))
        {
            SpawnInto(fork.Pid, fork.Cgroup);
        }
        Refresh();
    }

    private void Refresh()
    {
        Dictionary<int, Dictionary<string, string>> snapshot;
        lock (_gate)
        {
            snapshot = Processes.ToDictionary(p => p.Key, p => new Dictionary<string, string>(p.Value));
        }
        foreach (string directory in FileSystem.AllDirectories().Where(d => d.StartsWith(Root + "/", StringComparison.Ordinal)))
        {
            string hierarchy = directory[(Root.Length + 1)..].Split('/')[0];
            if (hierarchy == "unified" || !FileSystem.Exists(directory + "/cgroup.procs"))
            {
                continue;
            }
            string text = string.Concat(snapshot.Where(p => p.Value.GetValueOrDefault(hierarchy) == directory)
                .Select(p => p.Key).Order().Select(p => p.ToString(CultureInfo.InvariantCulture) + "\n"));
            FileSystem.SetFile(directory + "/cgroup.procs", text);
            FileSystem.SetFile(directory + "/tasks", text);
        }
    }
}
