namespace Sandbox.Tests.Cgroups;

/// <summary>Real /proc/self/mountinfo and /proc/self/cgroup texts, and real cgroup file contents.</summary>
internal static class CgroupSamples
{
    /// <summary>This machine (Linux 6.18, hybrid): `cat /proc/self/mountinfo`, verbatim.</summary>
    public const string ThisMachineMountInfo =
        """
        22 27 0:21 / /proc rw,relatime - proc proc rw
        23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
        24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334460k,nr_inodes=3083615,mode=755
        25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684084k
        26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000
        27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
        28 27 0:25 / /mnt/sandboxing/model_tools_env/v1/python ro,nosuid,nodev,relatime - tmpfs model_tools_unavailable ro,size=4k,mode=755
        29 26 0:26 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000
        30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684084k
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
        37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
        38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw

        """;

    /// <summary>This machine: `cat /proc/self/cgroup`, verbatim.</summary>
    public const string ThisMachineProcSelfCgroup =
        """
        9:name=systemd:/
        8:pids:/
        7:blkio:/
        6:freezer:/
        5:devices:/
        4:memory:/process_api/3a6b84fbe5588cbafcd37f0b2681f126
        3:cpuset:/
        2:cpuacct:/
        1:cpu:/
        0::/

        """;

    /// <summary>A systemd host on cgroup v2 (Fedora, Ubuntu 22.04+, Debian 11+).</summary>
    public const string UnifiedMountInfo =
        """
        22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
        23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
        24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
        35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        36 24 0:31 / /sys/fs/pstore rw,nosuid,nodev,noexec,relatime shared:10 - pstore pstore rw

        """;

    /// <summary>A user's process in a `systemd-run --user --scope` scope.</summary>
    public const string UserScopeCgroup = "/user.slice/user-1000.slice/user@1000.service/app.slice/run-r7f3.scope";

    /// <summary>A CentOS 7 style v1 host: cpu and cpuacct (and net_cls, net_prio) mounted together.</summary>
    public const string LegacyMountInfo =
        """
        18 61 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw
        19 61 0:3 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw
        24 18 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:7 - tmpfs tmpfs ro,mode=755
        25 24 0:21 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
        28 24 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpuacct,cpu
        29 24 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,memory
        30 24 0:26 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,pids
        31 24 0:27 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,freezer
        32 24 0:28 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpuset
        33 24 0:29 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,blkio
        34 24 0:30 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,net_prio,net_cls
        35 24 0:31 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,devices
        61 1 253:0 / / rw,relatime shared:1 - xfs /dev/mapper/centos-root rw,attr2,inode64,noquota

        """;

    /// <summary>/proc/self/cgroup on the legacy host.</summary>
    public const string LegacyProcSelfCgroup =
        """
        11:cpuset:/
        10:blkio:/user.slice
        9:memory:/user.slice
        8:pids:/user.slice
        7:freezer:/
        6:cpu,cpuacct:/user.slice
        5:net_cls,net_prio:/
        4:devices:/user.slice
        1:name=systemd:/user.slice/user-1000.slice/session-1.scope

        """;

    /// <summary>No cgroup file system at all.</summary>
    public const string NoCgroupMountInfo =
        """
        22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
        23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw

        """;

    /// <summary>v2 cpu.stat with the cpu controller enabled (Linux 6.x): every key in the kernel's order.</summary>
    public const string V2CpuStat =
        """
        usage_usec 1532417
        user_usec 1401007
        system_usec 131410
        nice_usec 0
        core_sched.force_idle_usec 0
        nr_periods 31
        nr_throttled 12
        throttled_usec 702114
        nr_bursts 0
        burst_usec 0

        """;

    /// <summary>v2 memory.events after an OOM kill.</summary>
    public const string V2MemoryEventsAfterOom =
        """
        low 0
        high 0
        max 1021
        oom 1
        oom_kill 1
        oom_group_kill 0

        """;
}
