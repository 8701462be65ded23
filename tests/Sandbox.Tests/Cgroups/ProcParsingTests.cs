using Sandbox.Cgroups;

namespace Sandbox.Tests.Cgroups;

/// <summary>/proc/self/mountinfo, /proc/self/cgroup and /proc/PID/stat as the kernel writes them.</summary>
public class ProcParsingTests
{
    [Fact]
    public void Mountinfo_of_this_machine_lists_every_cgroup_mount()
    {
        IReadOnlyList<MountInfoEntry> mounts = MountInfoParser.Parse(CgroupSamples.ThisMachineMountInfo);
        Assert.Equal(20, mounts.Count);
        MountInfoEntry memory = Assert.Single(mounts, m => m.MountPoint == "/sys/fs/cgroup/memory");
        Assert.Equal(new MountInfoEntry(35, 31, "0:32", "/", "/sys/fs/cgroup/memory", "rw,relatime", "cgroup", "cgroup", "rw,memory"), memory);
        MountInfoEntry unified = Assert.Single(mounts, m => m.FileSystemType == "cgroup2");
        Assert.Equal("/sys/fs/cgroup/unified", unified.MountPoint);
    }

    [Fact]
    public void Mountinfo_optional_fields_come_before_the_separator()
    {
        Assert.True(MountInfoParser.TryParseLine(
            "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 master:3 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot",
            out MountInfoEntry? entry));
        Assert.Equal("cgroup2", entry.FileSystemType);
        Assert.Equal(["rw", "nsdelegate", "memory_recursiveprot"], entry.SuperOptionList);
    }

    [Fact]
    public void Mountinfo_decodes_octal_escapes_in_paths()
    {
        Assert.True(MountInfoParser.TryParseLine(
            @"50 24 0:40 /a\040b /mnt/my\040cgroups\134x rw - cgroup2 cgroup2 rw", out MountInfoEntry? entry));
        Assert.Equal("/a b", entry.Root);
        Assert.Equal(@"/mnt/my cgroups\x", entry.MountPoint);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("1 2 3:4 / /x rw")]
    [InlineData("x 2 3:4 / /x rw - ext4 /dev/x rw")]
    public void Mountinfo_skips_malformed_lines(string line) => Assert.False(MountInfoParser.TryParseLine(line, out _));

    [Fact]
    public void Proc_self_cgroup_of_this_machine_has_the_unified_line_and_named_hierarchies()
    {
        IReadOnlyList<ProcCgroupEntry> entries = ProcCgroupParser.Parse(CgroupSamples.ThisMachineProcSelfCgroup);
        Assert.Equal(10, entries.Count);
        Assert.Equal("/", Assert.Single(entries, e => e.IsUnified).Path);
        Assert.Equal("/process_api/3a6b84fbe5588cbafcd37f0b2681f126", Assert.Single(entries, e => e.Controllers.Contains("memory")).Path);
        Assert.Equal(["name=systemd"], entries[0].Controllers);
    }

    [Fact]
    public void Proc_self_cgroup_splits_co_mounted_controllers()
    {
        ProcCgroupEntry entry = Assert.Single(ProcCgroupParser.Parse("6:cpu,cpuacct:/user.slice\n"));
        Assert.Equal(["cpu", "cpuacct"], entry.Controllers);
        Assert.Equal("/user.slice", entry.Path);
    }

    [Fact]
    public void Proc_stat_gives_pid_and_start_time_from_this_machines_format()
    {
        string real = "20412 (cat) R 20410 20410 6810 0 -1 4194304 97 0 0 0 0 0 0 0 20 0 1 0 225652 3133440 394 "
            + "18446744073709551615 94708100759552 94708100779433 140733701252224 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 "
            + "94708100795440 94708100797056 94708883992576 140733701253601 140733701253621 140733701253621 140733701255147 0\n";
        Assert.True(HostProcessStamp.TryParseStat(real, out int pid, out ulong start));
        Assert.Equal(20412, pid);
        Assert.Equal(225652UL, start);
    }

    [Fact]
    public void Proc_stat_survives_a_command_with_spaces_and_parentheses()
    {
        Assert.True(HostProcessStamp.TryParseStat(FakeProc.StatLine(77, "a) (b c", 999), out int pid, out ulong start));
        Assert.Equal((77, 999UL), (pid, start));
    }

    [Theory]
    [InlineData("pid:[4026531836]", 4026531836UL)]
    [InlineData("pid:[]", 0UL)]
    [InlineData(null, 0UL)]
    public void A_namespace_link_gives_its_inode(string? link, ulong inode) =>
        Assert.Equal(inode, HostProcessStamp.ParseNamespaceLink(link));

    [Fact]
    public void Cgroup_paths_map_into_the_mount_only_below_its_root()
    {
        Assert.Equal("/sys/fs/cgroup/memory/process_api/x", CgroupPaths.ToDirectory("/sys/fs/cgroup/memory", "/", "/process_api/x"));
        Assert.Equal("/sys/fs/cgroup/sub", CgroupPaths.ToDirectory("/sys/fs/cgroup", "/docker/abc", "/docker/abc/sub"));
        Assert.Equal("/sys/fs/cgroup", CgroupPaths.ToDirectory("/sys/fs/cgroup", "/docker/abc", "/docker/abc"));
        Assert.Null(CgroupPaths.ToDirectory("/sys/fs/cgroup", "/docker/abc", "/docker/abcd"));
        Assert.Null(CgroupPaths.ToDirectory("/sys/fs/cgroup", "/", "/../../init.scope"));
    }
}
