using Sandbox.Cli;
using Sandbox.Diagnostics;
using Sandbox.Diagnostics.Checks;
using Sandbox.Interop;

namespace Sandbox.Tests.Diagnostics;

/// <summary>
/// <see cref="HostProbe"/>'s parsing and verdicts, on hosts described as tables of files: kernel releases, mountinfo of
/// v2, v1 and hybrid hosts, user-namespace sysctls, cgroup delegation by permissions, CPU flags and KVM modules.
/// </summary>
public sealed class HostProbeTests
{
    private const string V2MountInfo =
        "24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n" +
        "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";

    // This repository's CI machine: v1 controllers, an empty cgroup2 at /sys/fs/cgroup/unified, a named systemd hierarchy.
    private const string HybridMountInfo =
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n" +
        "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n" +
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" +
        "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n" +
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n" +
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

    private const string HybridProcSelfCgroup =
        "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/6b60\n2:cpuacct:/\n1:cpu:/\n0::/\n";

    // CentOS 7: co-mounted cpu,cpuacct, release_agent and xattr options, a read-only tmpfs above.
    private const string V1MountInfo =
        "25 18 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755\n" +
        "26 25 0:22 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd\n" +
        "29 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct\n" +
        "30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory\n";

    [Theory]
    [InlineData("6.18.44-fc-v669", 6, 18, 44)]
    [InlineData("5.15.0-91-generic", 5, 15, 0)]
    [InlineData("6.8.0-rc3", 6, 8, 0)]
    [InlineData("4.19.112+", 4, 19, 112)]
    [InlineData("6.1", 6, 1, 0)]
    [InlineData(" 5.12.1\n", 5, 12, 1)]
    [InlineData("5.10.0_custom", 5, 10, 0)]
    public void KernelVersionReadsTheLeadingNumbersOfARelease(string release, int major, int minor, int patch)
    {
        Assert.True(KernelVersion.TryParse(release, out var version));
        Assert.Equal(new KernelVersion(major, minor, patch), version);
    }

    [Theory]
    [InlineData("")]
    [InlineData("6")]
    [InlineData("linux-6.1")]
    [InlineData("6.x.1")]
    [InlineData(null)]
    public void KernelVersionRejectsAReleaseWithoutMajorAndMinor(string? release) =>
        Assert.False(KernelVersion.TryParse(release, out _));

    [Theory]
    [InlineData("5.11.22", "5.12", false)]
    [InlineData("5.12", "5.12", true)]
    [InlineData("5.12.0", "5.11.99", true)]
    [InlineData("6.0", "5.19.17", true)]
    [InlineData("4.20", "5.0", false)]
    [InlineData("5.4.1", "5.4", true)]
    public void KernelVersionsCompareNumericallyComponentByComponent(string left, string right, bool atLeast)
    {
        Assert.True(KernelVersion.TryParse(left, out var l));
        Assert.True(KernelVersion.TryParse(right, out var r));
        Assert.Equal(atLeast, l.IsAtLeast(r));
        Assert.Equal(atLeast, l >= r);
        Assert.Equal(!atLeast, l < r);
    }

    [Fact]
    public void AKernelOlderThan512IsMissingAndNamesWhatItLacks()
    {
        var check = Probe(FakeHost.Rootless(release: "5.10.0-28-amd64"))[HostCheckNames.Kernel];

        Assert.Equal(HostCheckStatus.Missing, check.Status);
        Assert.True(check.Required);
        Assert.Contains("mount_setattr", check.Finding, StringComparison.Ordinal);
        Assert.Contains("close_range", check.Finding, StringComparison.Ordinal);
        Assert.DoesNotContain("openat2", check.Finding, StringComparison.Ordinal);
        Assert.Contains("5.12", check.Fix, StringComparison.Ordinal);
        Assert.Contains(check.Evidence, e => e.Source == "/proc/sys/kernel/osrelease" && e.Value == "5.10.0-28-amd64");
    }

    [Fact]
    public void AKernelOf512IsOkAndAnUnreadableReleaseIsUnknown()
    {
        Assert.Equal(HostCheckStatus.Ok, Probe(FakeHost.Rootless(release: "5.12.0"))[HostCheckNames.Kernel].Status);
        Assert.Equal(HostCheckStatus.Unknown, Probe(FakeHost.Rootless().Remove("/proc/sys/kernel/osrelease"))[HostCheckNames.Kernel].Status);
    }

    [Theory]
    [InlineData("5.3.0", HostCheckStatus.Missing)]
    [InlineData("5.4.0", HostCheckStatus.Ok)]
    [InlineData("6.8.0", HostCheckStatus.Ok)]
    public void PidfdsNeedWaitidPPidfdFrom54(string release, HostCheckStatus expected) =>
        Assert.Equal(expected, Probe(FakeHost.Rootless(release: release))[HostCheckNames.Pidfd].Status);

    [Fact]
    public void AUnifiedHostIsV2WithTheControllersSandboxCgroupsCanHave()
    {
        var check = Probe(FakeHost.Rootless())[HostCheckNames.Cgroups];

        Assert.Equal(HostCheckStatus.Ok, check.Status);
        Assert.StartsWith("cgroup v2 (unified) at /sys/fs/cgroup; controllers available to sandbox cgroups under /sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope: cpu io memory pids", check.Finding, StringComparison.Ordinal);
        Assert.EndsWith("I/O limits (io) available, CPU sets not (cpuset missing).", check.Finding, StringComparison.Ordinal);
    }

    [Fact]
    public void AUnifiedHostWithoutTheMemoryControllerIsAWarningWithTheDetectorsFix()
    {
        var check = Probe(FakeHost.Root().Text("/proc/self/cgroup", "0::/\n").Text("/sys/fs/cgroup/cgroup.controllers", "cpu pids\n"))[HostCheckNames.Cgroups];

        Assert.Equal(HostCheckStatus.Warning, check.Status);
        Assert.Contains("missing: memory", check.Finding, StringComparison.Ordinal);
        Assert.Contains("cgroup_no_v1=all", check.Fix, StringComparison.Ordinal); // the root lacks it: a v1 hierarchy holds it
    }

    [Fact]
    public void ThisMachinesV1ControllersWithAnEmptyCgroup2MountAreHybridAndSandboxesUseV1()
    {
        var check = Probe(ThisMachine(FakeHost.Root()))[HostCheckNames.Cgroups];

        Assert.Equal(HostCheckStatus.Ok, check.Status);
        Assert.Equal(
            "Hybrid: v1 controllers blkio, cpu, cpuacct, cpuset, devices, freezer, memory, pids under /sys/fs/cgroup/*; " +
            "cgroup2 at /sys/fs/cgroup/unified with controllers: hugetlb, unused: sandboxes use v1; CPU sets (cpuset) and I/O limits (blkio) available.",
            check.Finding);
        Assert.Contains(check.Evidence, e => e.Value == "cgroup memory at /sys/fs/cgroup/memory (showing /)");
    }

    [Fact]
    public void A_v1_host_without_the_pids_controller_is_a_warning_naming_it_and_how_to_mount_it()
    {
        var check = Probe(FakeHost.Root().Text("/proc/self/mountinfo", V1MountInfo).Text("/proc/self/cgroup", "3:memory:/\n2:cpu,cpuacct:/\n1:name=systemd:/\n"))[HostCheckNames.Cgroups];

        Assert.Equal(HostCheckStatus.Warning, check.Status);
        Assert.StartsWith("cgroup v1: v1 controllers cpu, cpuacct, memory under /sys/fs/cgroup/*; missing: pids (limited sandboxes need cpuacct, memory, pids; cpu for CPU quotas)", check.Finding, StringComparison.Ordinal);
        Assert.Contains("mount -t cgroup -o pids cgroup /sys/fs/cgroup/pids", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void NoCgroupMountIsMissing()
    {
        var report = Probe(FakeHost.Rootless().Text("/proc/self/mountinfo", "24 1 8:1 / / rw - ext4 /dev/sda1 rw\n"));

        Assert.Equal(HostCheckStatus.Missing, report[HostCheckNames.Cgroups].Status);
        Assert.Contains("mount -t cgroup2", report[HostCheckNames.Cgroups].Fix, StringComparison.Ordinal);
        Assert.Equal(HostCheckStatus.Missing, report[HostCheckNames.CgroupDelegation].Status);
        Assert.Contains("--rlimit-fallback", report[HostCheckNames.CgroupDelegation].Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void ASystemdDelegatedSubtreeLetsARootlessUserCreateSandboxCgroups()
    {
        const string Scope = "/user.slice/user-1000.slice/user@1000.service/app.slice/run-1.scope";
        var host = FakeHost.Rootless()
            .Text("/proc/self/cgroup", $"0::{Scope}\n")
            .Directory($"/sys/fs/cgroup{Scope}", uid: 1000, gid: 1000, mode: "755")
            .Text($"/sys/fs/cgroup{Scope}/cgroup.controllers", "cpu memory pids\n")
            .Text($"/sys/fs/cgroup{Scope}/cgroup.subtree_control", "\n")
            .Exists($"/sys/fs/cgroup{Scope}/cgroup.kill");

        var check = Probe(host)[HostCheckNames.CgroupDelegation];

        Assert.Equal(HostCheckStatus.Ok, check.Status);
        Assert.StartsWith($"This user (uid 1000) can create sandbox cgroups, under /sys/fs/cgroup{Scope}, writable, controllers enabled for children: none yet.", check.Finding, StringComparison.Ordinal);
        Assert.Contains("will be enabled", check.Finding, StringComparison.Ordinal);
        Assert.Equal([$"/sys/fs/cgroup{Scope}/cgroup.procs"], host.OpenedForWriting);
        Assert.Contains(check.Evidence, e => e.Source == $"open(/sys/fs/cgroup{Scope}/cgroup.procs, O_WRONLY)" && e.Value == "allowed (closed unwritten)");
    }

    [Fact]
    public void ARootOwnedV2CgroupIsNotDelegatedAndTheFixIsASystemdScopeOrTheRlimitFallback()
    {
        var host = FakeHost.Rootless()
            .Directory("/sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope", uid: 0, gid: 0, mode: "755")
            .OpenFails("/sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope/cgroup.procs", "EACCES (permission denied)");

        var check = Probe(host)[HostCheckNames.CgroupDelegation];

        Assert.Equal(HostCheckStatus.Missing, check.Status);
        Assert.False(check.Required);
        Assert.Contains("Rootless on cgroup v2 needs a delegated subtree", check.Finding, StringComparison.Ordinal);
        Assert.Contains("not writable by uid 1000", check.Finding, StringComparison.Ordinal);
        Assert.Contains("systemd-run --user --scope -p Delegate=yes", check.Fix, StringComparison.Ordinal);
        Assert.Contains("--rlimit-fallback", check.Fix, StringComparison.Ordinal);
        Assert.Contains(check.Evidence, e => e.Value == "EACCES (permission denied)");
    }

    [Fact]
    public void AReadOnlyCgroupMountRefusesEvenRoot()
    {
        var host = FakeHost.Root()
            .Text("/proc/self/mountinfo", "35 24 0:30 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate\n")
            .Text("/proc/self/cgroup", "0::/\n")
            .Directory("/sys/fs/cgroup", uid: 0, gid: 0, mode: "755")
            .OpenFails("/sys/fs/cgroup/cgroup.procs", "EROFS (read-only file system)");

        var check = Probe(host)[HostCheckNames.CgroupDelegation];

        Assert.Equal(HostCheckStatus.Missing, check.Status);
        Assert.Contains("not writable even for root", check.Finding, StringComparison.Ordinal);
        Assert.Contains("mount -o remount,rw /sys/fs/cgroup", check.Fix, StringComparison.Ordinal);
        Assert.DoesNotContain("--rlimit-fallback", check.Fix, StringComparison.Ordinal); // root can fix the mount
    }

    [Fact]
    public void RootCanCreateSandboxCgroupsInEveryV1HierarchyOfThisMachine()
    {
        var check = Probe(ThisMachine(FakeHost.Root()))[HostCheckNames.CgroupDelegation];

        Assert.Equal(HostCheckStatus.Ok, check.Status);
        Assert.StartsWith(
            "This user (uid 0) can create sandbox cgroups, in each v1 hierarchy under this process's own cgroup: " +
            "cpu, cpuacct, cpuset, blkio, pids in the root (writable); memory in /process_api/6b60 (writable).",
            check.Finding, StringComparison.Ordinal);
        Assert.DoesNotContain("devices", check.Finding, StringComparison.Ordinal); // sandboxes never join it
        Assert.Contains(check.Evidence, e => e.Source == "/sys/fs/cgroup/memory/process_api/6b60" && e.Value.StartsWith("drwxr-xr-x owner 0 group 0", StringComparison.Ordinal));
    }

    [Fact]
    public void ARootlessUserOnV1IsRefusedEverywhereAndToldToUseTheRlimitFallbackOrADelegatedV2Subtree()
    {
        var check = Probe(ThisMachine(FakeHost.Rootless()))[HostCheckNames.CgroupDelegation];

        Assert.Equal(HostCheckStatus.Missing, check.Status);
        Assert.Contains("cpu, cpuacct, cpuset, blkio, pids in the root (not writable); memory in /process_api/6b60 (not writable)", check.Finding, StringComparison.Ordinal);
        Assert.Contains("Rootless sandboxes cannot use cgroup v1", check.Finding, StringComparison.Ordinal);
        Assert.Contains("/sys/fs/cgroup/memory/process_api/6b60", check.Finding, StringComparison.Ordinal);
        Assert.StartsWith("cgroup v1 delegates nothing to an unprivileged user: use --rlimit-fallback", check.Fix, StringComparison.Ordinal);
        Assert.Contains("delegated cgroup v2 subtree", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void The_doctor_and_the_driver_judge_a_host_with_the_same_detection()
    {
        foreach (var host in new[] { ThisMachine(FakeHost.Root()), ThisMachine(FakeHost.Rootless()), FakeHost.Rootless(), FakeHost.Root() })
        {
            var facts = new HostFacts(host);
            var report = Probe(host);
            bool usable = facts.Cgroups.IsUsable;

            Assert.Equal(usable, report[HostCheckNames.CgroupDelegation].Status is HostCheckStatus.Ok or HostCheckStatus.Warning);
        }
    }

    /// <summary>This CI machine's mounts and cgroups (hybrid, v1 controllers under /sys/fs/cgroup/*), root-owned hierarchy roots.</summary>
    private static FakeHost ThisMachine(FakeHost host)
    {
        host.Text("/proc/self/mountinfo", Cgroups.CgroupSamples.ThisMachineMountInfo)
            .Text("/proc/self/cgroup", "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n4:memory:/process_api/6b60\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n")
            .Text("/sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n")
            .Directory("/sys/fs/cgroup/memory/process_api/6b60", 0, 0, "755")
            .Directory("/sys/fs/cgroup/unified", 0, 0, "755");
        foreach (string hierarchy in new[] { "cpu", "cpuacct", "cpuset", "devices", "freezer", "blkio", "pids" })
            host.Directory($"/sys/fs/cgroup/{hierarchy}", 0, 0, "755");
        return host;
    }


    [Theory]
    [InlineData(1000u, 1000u, "755", true)]   // the owner with rwx
    [InlineData(1000u, 1000u, "555", false)]  // the owner without w
    [InlineData(0u, 1000u, "775", true)]      // a member of the group
    [InlineData(0u, 27u, "775", true)]        // a supplementary group
    [InlineData(0u, 0u, "775", false)]        // neither owner nor member
    [InlineData(0u, 0u, "777", true)]         // everyone
    [InlineData(1000u, 0u, "077", false)]     // the owner gets the owner's bits only, even when everyone else may
    public void DirectoryPermissionsFollowOwnerThenGroupThenOthers(uint ownerUid, uint ownerGid, string mode, bool mayCreate)
    {
        var credentials = ProcessCredentials.Parse(StatusText(uid: 1000, gid: 1000, groups: "4 27", capEff: "0000000000000000"))!;
        var directory = new HostFileStatus(HostFileKind.Directory, ownerUid, ownerGid, Mode(mode));

        Assert.Equal(mayCreate, credentials.MayCreateIn(directory));
    }

    [Fact]
    public void CapDacOverrideMayCreateInAnyDirectory()
    {
        var root = ProcessCredentials.Parse(StatusText(uid: 0, gid: 0, groups: "", capEff: "000001ffffffffff"))!;
        var rootWithoutCaps = ProcessCredentials.Parse(StatusText(uid: 0, gid: 0, groups: "", capEff: "0000000000000000"))!;
        var directory = new HostFileStatus(HostFileKind.Directory, 1000, 1000, Mode("555"));

        Assert.True(root.MayCreateIn(directory));
        Assert.False(rootWithoutCaps.MayCreateIn(directory));
        Assert.True(root.Has(ProcessCredentials.CapSysAdmin));
    }

    [Theory]
    [InlineData("15000", null, null, false, HostCheckStatus.Ok)]
    [InlineData("0", null, null, false, HostCheckStatus.Missing)]
    [InlineData("0", null, null, true, HostCheckStatus.Missing)]           // max_user_namespaces binds root too
    [InlineData("15000", "0", null, false, HostCheckStatus.Missing)]       // Debian's switch, off
    [InlineData("15000", "0", null, true, HostCheckStatus.Ok)]             // ... spares CAP_SYS_ADMIN
    [InlineData("15000", "1", null, false, HostCheckStatus.Ok)]
    [InlineData("15000", null, "1", false, HostCheckStatus.Missing)]       // Ubuntu 23.10+'s AppArmor restriction
    [InlineData("15000", null, "1", true, HostCheckStatus.Ok)]
    [InlineData("15000", "1", "0", false, HostCheckStatus.Ok)]
    public void UserNamespaceSysctlsDecideForUnprivilegedUsers(string maxUserNamespaces, string? unprivilegedClone, string? apparmorRestrict, bool root, HostCheckStatus expected)
    {
        var host = (root ? FakeHost.Root() : FakeHost.Rootless()).Text("/proc/sys/user/max_user_namespaces", maxUserNamespaces + "\n");
        if (unprivilegedClone is not null) host.Text("/proc/sys/kernel/unprivileged_userns_clone", unprivilegedClone + "\n");
        if (apparmorRestrict is not null) host.Text("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", apparmorRestrict + "\n");

        var check = Probe(host)[HostCheckNames.UserNamespaces];

        Assert.Equal(expected, check.Status);
        Assert.True(check.Required);
        Assert.Equal(expected == HostCheckStatus.Ok, check.Fix is null);
    }

    [Fact]
    public void EachRestrictionGetsItsOwnSysctlFix()
    {
        var host = FakeHost.Rootless()
            .Text("/proc/sys/kernel/unprivileged_userns_clone", "0\n")
            .Text("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n")
            .Text("/proc/sys/user/max_pid_namespaces", "0\n");

        var check = Probe(host)[HostCheckNames.UserNamespaces];

        Assert.Contains("sysctl -w kernel.unprivileged_userns_clone=1", check.Fix, StringComparison.Ordinal);
        Assert.Contains("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0", check.Fix, StringComparison.Ordinal);
        Assert.Contains("userns,", check.Fix, StringComparison.Ordinal);
        Assert.Contains("sysctl -w user.max_pid_namespaces=15000", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void AKernelWithoutUserNamespacesIsMissing()
    {
        var check = Probe(FakeHost.Rootless().Remove("/proc/self/ns/user"))[HostCheckNames.UserNamespaces];

        Assert.Equal(HostCheckStatus.Missing, check.Status);
        Assert.Contains("CONFIG_USER_NS", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void AFailedTrialSandboxMakesTheHostUnableToRunSandboxesAndReportsTheMessage()
    {
        var report = Probe(FakeHost.Rootless(), SandboxTrialResult.Failure("This host does not support creating the sandbox's namespaces.", "Check sysctl user.max_user_namespaces."));

        var check = report[HostCheckNames.Sandbox];
        Assert.Equal(HostCheckStatus.Missing, check.Status);
        Assert.Equal("This host does not support creating the sandbox's namespaces.", check.Finding);
        Assert.Equal("Check sysctl user.max_user_namespaces.", check.Fix);
        Assert.False(report.CanRunSandboxes);
        Assert.Equal([HostCheckNames.Sandbox], report.Blocking.Select(c => c.Name));
    }

    [Fact]
    public void OptionalChecksDoNotStopSandboxesFromRunning()
    {
        var report = Probe(FakeHost.Rootless().Remove("/dev/kvm").Remove("/proc/self/mountinfo"));

        Assert.True(report.CanRunSandboxes);
        Assert.Equal(HostCheckStatus.Missing, report[HostCheckNames.Kvm].Status);
        Assert.Equal(HostCheckStatus.Unknown, report[HostCheckNames.Cgroups].Status);
    }

    [Fact]
    public void EveryCheckIsReportedOnceInTheDocumentedOrder()
    {
        var report = Probe(FakeHost.Rootless());

        Assert.Equal(
            [HostCheckNames.Privileges, HostCheckNames.Kernel, HostCheckNames.Pidfd, HostCheckNames.UserNamespaces, HostCheckNames.Sandbox,
             HostCheckNames.Cgroups, HostCheckNames.CgroupDelegation, HostCheckNames.Overlayfs, HostCheckNames.RootTemplates, HostCheckNames.Seccomp,
             HostCheckNames.Kvm, HostCheckNames.Virtualization],
            report.Checks.Select(c => c.Name));
        Assert.All(report.Checks, c => Assert.Equal(c.Status == HostCheckStatus.Ok, c.Fix is null));
        Assert.All(report.Checks, c => Assert.NotEmpty(c.Evidence));
    }

    [Theory]
    [InlineData("fpu vme vmx hypervisor", true, false)]
    [InlineData("fpu svm lm", false, true)]
    [InlineData("fpu vme hypervisor", false, false)]
    [InlineData("fpu vmxx svmm", false, false)]
    public void CpuFlagsAreMatchedAsWholeWords(string flags, bool vmx, bool svm)
    {
        var found = CpuVirtualization.FlagsOf($"processor\t: 0\nflags\t\t: {flags}\nbugs\t\t: spectre_v1\n\nprocessor\t: 1\nflags\t\t: {flags}\n")!;

        Assert.Equal(vmx, found.Contains("vmx"));
        Assert.Equal(svm, found.Contains("svm"));
    }

    [Fact]
    public void VmxIsHardwareVirtualization()
    {
        var check = Probe(FakeHost.Rootless().Text("/proc/cpuinfo", "flags\t\t: fpu vmx\n").Exists("/sys/module/kvm_intel"))[HostCheckNames.Virtualization];

        Assert.Equal(HostCheckStatus.Ok, check.Status);
        Assert.Contains("Intel VT-x (vmx)", check.Finding, StringComparison.Ordinal);
    }

    [Fact]
    public void WorkingKvmWithoutCpuFlagsButWithKvmPvmIsNamedPvm()
    {
        var check = Probe(FakeHost.Rootless().Text("/proc/cpuinfo", "flags\t\t: fpu hypervisor\n").Exists("/sys/module/kvm_pvm"))[HostCheckNames.Virtualization];

        Assert.Equal(HostCheckStatus.Warning, check.Status);
        Assert.Contains("PVM", check.Finding, StringComparison.Ordinal);
        Assert.Contains("hypervisor", check.Finding, StringComparison.Ordinal);
        Assert.Contains(check.Evidence, e => e.Source == "/sys/module/kvm_pvm" && e.Value == "present");
    }

    [Fact]
    public void NoFlagsAndNoKvmIsMissingVirtualization()
    {
        var check = Probe(FakeHost.Rootless().Text("/proc/cpuinfo", "flags\t\t: fpu\n").Remove("/dev/kvm").Remove("/sys/module/kvm"))[HostCheckNames.Virtualization];

        Assert.Equal(HostCheckStatus.Missing, check.Status);
        Assert.Contains("nested virtualization", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void AKvmDeviceThisUserCannotOpenIsMissingWithTheGroupToJoin()
    {
        var host = FakeHost.Rootless()
            .Device("/dev/kvm", uid: 0, gid: 108, mode: "660")
            .Text("/etc/group", "root:x:0:\nkvm:x:108:\n")
            .Text("/etc/passwd", "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n")
            .OpenFails("/dev/kvm", "EACCES (permission denied)");

        var check = Probe(host)[HostCheckNames.Kvm];

        Assert.Equal(HostCheckStatus.Missing, check.Status);
        Assert.Contains("crw-rw----", check.Finding, StringComparison.Ordinal);
        Assert.Contains("usermod -aG kvm alice", check.Fix, StringComparison.Ordinal);
        Assert.Contains(check.Evidence, e => e.Source == "open(/dev/kvm, O_RDWR)" && e.Value.StartsWith("EACCES", StringComparison.Ordinal));
    }

    [Fact]
    public void AKvmDeviceThatOpensIsOk() =>
        Assert.Equal(HostCheckStatus.Ok, Probe(FakeHost.Rootless())[HostCheckNames.Kvm].Status);

    [Theory]
    [InlineData("6.8.0", "nodev\toverlay\n", HostCheckStatus.Ok)]
    [InlineData("5.11.0", "nodev\toverlay\n", HostCheckStatus.Ok)]
    [InlineData("5.10.0", "nodev\toverlay\n", HostCheckStatus.Warning)]
    [InlineData("6.8.0", "nodev\tproc\n\text4\n", HostCheckStatus.Missing)]
    [InlineData("6.8.0", "nodev\toverlayfs_other\n", HostCheckStatus.Missing)]
    public void OverlayMustBeListedAndMountableInAUserNamespaceSince511(string release, string filesystems, HostCheckStatus expected)
    {
        var check = Probe(FakeHost.Rootless(release: release).Text("/proc/filesystems", filesystems))[HostCheckNames.Overlayfs];

        Assert.Equal(expected, check.Status);
        if (expected == HostCheckStatus.Ok)
            Assert.Contains("available since 5.11", check.Finding, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("6.12.0", HostCheckStatus.Warning)]
    [InlineData("6.13.0", HostCheckStatus.Ok)]
    [InlineData("6.18.44", HostCheckStatus.Ok)]
    public void ForRootOverlayMustAlsoTakeIdmappedLayersInAUserNamespaceSince613(string release, HostCheckStatus expected)
    {
        var check = Probe(FakeHost.Root(release: release).Text("/proc/filesystems", "nodev\toverlay\n"))[HostCheckNames.Overlayfs];

        Assert.Equal(expected, check.Status);
        Assert.Contains("6.13", check.Finding, StringComparison.Ordinal);
        if (expected == HostCheckStatus.Warning)
            Assert.Contains("WithoutNamespaces(SandboxNamespaces.User)", check.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("6.14.9", true, HostCheckStatus.Warning)]
    [InlineData("6.15.0", true, HostCheckStatus.Ok)]
    [InlineData("6.18.44", false, HostCheckStatus.Ok)]
    public void RootTemplatesNeedMountsBeneathADetachedTreeSince615(string release, bool root, HostCheckStatus expected)
    {
        var host = root ? FakeHost.Root(release: release) : FakeHost.Rootless(release: release);

        var check = Probe(host)[HostCheckNames.RootTemplates];

        Assert.Equal(expected, check.Status);
        Assert.Contains("6.15", check.Finding, StringComparison.Ordinal);
        Assert.Equal(expected == HostCheckStatus.Ok && root, check.Finding.Contains("mount namespace", StringComparison.Ordinal));
        if (expected == HostCheckStatus.Warning)
            Assert.Contains("Upgrade to Linux 6.15", check.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void ARootlessHostNeedsNoIdmappedLayers() =>
        Assert.Equal(HostCheckStatus.Ok, Probe(FakeHost.Rootless(release: "6.8.0").Text("/proc/filesystems", "nodev\toverlay\n"))[HostCheckNames.Overlayfs].Status);

    [Theory]
    [InlineData("kill_process kill_thread trap errno user_notif trace log allow", HostCheckStatus.Ok)]
    [InlineData("kill_process kill_thread trap errno trace log allow", HostCheckStatus.Warning)]
    [InlineData("kill_thread trap errno trace allow", HostCheckStatus.Missing)]
    public void SeccompNeedsKillProcessAndErrnoAndWantsUserNotif(string actions, HostCheckStatus expected) =>
        Assert.Equal(expected, Probe(FakeHost.Rootless().Text("/proc/sys/kernel/seccomp/actions_avail", actions + "\n"))[HostCheckNames.Seccomp].Status);

    [Fact]
    public void AKernelWithoutSeccompHasNoSeccompLine()
    {
        var host = FakeHost.Rootless().Text("/proc/self/status", StatusText(1000, 1000, "", "0000000000000000", seccomp: null));

        Assert.Equal(HostCheckStatus.Missing, Probe(host)[HostCheckNames.Seccomp].Status);
    }

    [Fact]
    public void AnAlreadyFilteredProcessIsStillOk()
    {
        var host = FakeHost.Rootless().Text("/proc/self/status", StatusText(1000, 1000, "", "0000000000000000", seccomp: "2"));

        var check = Probe(host)[HostCheckNames.Seccomp];
        Assert.Equal(HostCheckStatus.Ok, check.Status);
        Assert.Contains("already filtered", check.Finding, StringComparison.Ordinal);
    }

    [Fact]
    public void RootWithoutSetuidCapabilitiesIsAWarning()
    {
        var host = FakeHost.Root().Text("/proc/self/status", StatusText(0, 0, "", "00000000a80425fb"));   // docker's default set: no CAP_SYS_ADMIN

        var check = Probe(host)[HostCheckNames.Privileges];
        Assert.Equal(HostCheckStatus.Warning, check.Status);
        Assert.Contains("CAP_SYS_ADMIN", check.Finding, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTablePutsEachFixOnTheLineAfterItsCheck()
    {
        var host = FakeHost.Rootless().OpenFails("/dev/kvm", "EACCES (permission denied)");
        string table = DoctorCommand.FormatTable(Probe(host));
        var lines = table.Split('\n');

        int kvm = Array.FindIndex(lines, l => l.StartsWith("MISSING kvm ", StringComparison.Ordinal));
        Assert.True(kvm >= 0, table);
        Assert.StartsWith("fix: ", lines[kvm + 1].TrimStart(), StringComparison.Ordinal);
        Assert.Contains("Sandboxes can run on this host.", table, StringComparison.Ordinal);
    }

    private static HostReport Probe(FakeHost host, SandboxTrialResult? trial = null) =>
        HostProbe.RunAsync(host, _ => Task.FromResult(trial ?? SandboxTrialResult.Success("/bin/true ran.")), CancellationToken.None)
            .GetAwaiter().GetResult();

    private static UnixFileMode Mode(string octal) => (UnixFileMode)Convert.ToInt32(octal, 8);

    private static string StatusText(uint uid, uint gid, string groups, string capEff, string? seccomp = "0") =>
        $"Name:\tdotnet\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{gid}\t{gid}\t{gid}\t{gid}\nGroups:\t{groups}\n" +
        $"CapInh:\t0000000000000000\nCapEff:\t{capEff}\n" + (seccomp is null ? "" : $"Seccomp:\t{seccomp}\nSeccomp_filters:\t{(seccomp == "2" ? 1 : 0)}\n");

    /// <summary>A host as a table: file texts, what exists, the owner and mode of directories and devices, opens that fail.</summary>
    private sealed class FakeHost : IHostFiles
    {
        private readonly Dictionary<string, string> _texts = new(StringComparer.Ordinal);
        private readonly HashSet<string> _present = new(StringComparer.Ordinal);
        private readonly Dictionary<string, HostFileStatus> _statuses = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _openErrors = new(StringComparer.Ordinal);

        /// <summary>Every path opened for writing, in order: the probe must never write, only open.</summary>
        public List<string> OpenedForWriting { get; } = [];

        /// <summary>A current unified-cgroup host with KVM (vmx) that uid 1000 can use, and no restrictions.</summary>
        public static FakeHost Rootless(string release = "6.8.0-45-generic") =>
            Typical(release).Text("/proc/self/status", StatusText(1000, 1000, "27", "0000000000000000"));

        /// <summary>The same host, seen by root with every capability.</summary>
        public static FakeHost Root(string release = "6.8.0-45-generic") =>
            Typical(release).Text("/proc/self/status", StatusText(0, 0, "", "000001ffffffffff"));

        private static FakeHost Typical(string release) =>
            new FakeHost()
                .Text("/proc/sys/kernel/osrelease", release + "\n")
                .Exists("/proc/self/ns/user")
                .Text("/proc/sys/user/max_user_namespaces", "63448\n")
                .Text("/proc/self/mountinfo", V2MountInfo)
                .Text("/proc/self/cgroup", "0::/user.slice/user-1000.slice/session-1.scope\n")
                .Text("/sys/fs/cgroup/cgroup.controllers", "cpu io memory pids\n")
                .Text("/proc/filesystems", "nodev\tsysfs\nnodev\tproc\nnodev\tcgroup2\n\text4\nnodev\toverlay\n")
                .Text("/proc/sys/kernel/seccomp/actions_avail", "kill_process kill_thread trap errno user_notif trace log allow\n")
                .Text("/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vme vmx\n")
                .Exists("/sys/module/kvm").Exists("/sys/module/kvm_intel")
                .Device("/dev/kvm", uid: 0, gid: 108, mode: "666");

        public FakeHost Text(string path, string text)
        {
            _texts[path] = text;
            return Exists(path);
        }

        public FakeHost Exists(string path)
        {
            _present.Add(path);
            return this;
        }

        public FakeHost Directory(string path, uint uid, uint gid, string mode)
        {
            _statuses[path] = new HostFileStatus(HostFileKind.Directory, uid, gid, Mode(mode));
            return Exists(path);
        }

        public FakeHost Device(string path, uint uid, uint gid, string mode)
        {
            _statuses[path] = new HostFileStatus(HostFileKind.CharacterDevice, uid, gid, Mode(mode));
            return Exists(path);
        }

        public FakeHost OpenFails(string path, string error)
        {
            _openErrors[path] = error;
            return this;
        }

        public FakeHost Remove(string path)
        {
            _texts.Remove(path);
            _present.Remove(path);
            _statuses.Remove(path);
            return this;
        }

        string? IHostFiles.TryReadText(string path) => _texts.GetValueOrDefault(path);

        // A directory exists when anything beneath it does, as on a real file system.
        bool IHostFiles.Exists(string path) => _present.Contains(path) || _present.Any(p => p.StartsWith(path.TrimEnd('/') + "/", StringComparison.Ordinal));

        IReadOnlyList<string> IHostFiles.ListDirectories(string path) =>
            [.. _present.Where(p => p.StartsWith(path + "/", StringComparison.Ordinal) && p.IndexOf('/', path.Length + 1) > 0)
                .Select(p => p[(path.Length + 1)..p.IndexOf('/', path.Length + 1)]).Distinct().Order(StringComparer.Ordinal)];

        HostFileStatus? IHostFiles.TryGetStatus(string path) => _statuses.GetValueOrDefault(path);

        string? IHostFiles.TryOpen(string path, FileAccess access)
        {
            if (access.HasFlag(FileAccess.Write) && path.StartsWith("/sys/fs/cgroup", StringComparison.Ordinal))
                OpenedForWriting.Add(path);
            return _openErrors.GetValueOrDefault(path);
        }
    }
}
