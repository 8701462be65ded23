namespace Sandbox.Tests;

/// <summary>The immutable spec: its defaults, its copies, and its validation that reports every problem at once.</summary>
public sealed class SandboxSpecTests
{
    private static readonly SandboxSpec Spec = SandboxSpec.Command("/bin/true");

    /// <summary>Every WithX/AddX, and how to tell that it changed something.</summary>
    public static TheoryData<string, Func<SandboxSpec, SandboxSpec>, Func<SandboxSpec, object?>> Changes => new()
    {
        { "WithArguments", s => s.WithArguments("x"), s => string.Join(',', s.Arguments) },
        { "WithEnvironment", s => s.WithEnvironment([new("A", "1")]), s => string.Join(',', s.Environment) },
        { "WithEnvironmentVariable", s => s.WithEnvironmentVariable("A", "1"), s => string.Join(',', s.Environment) },
        { "WithWorkingDirectory", s => s.WithWorkingDirectory("/tmp"), s => s.WorkingDirectory },
        { "WithHostname", s => s.WithHostname("h"), s => s.Hostname },
        { "WithNamespaces", s => s.WithNamespaces(SandboxNamespaces.None), s => s.Namespaces },
        { "WithoutNamespaces", s => s.WithoutNamespaces(SandboxNamespaces.Ipc), s => s.Namespaces },
        { "WithSharedNetwork", s => s.WithSharedNetwork(), s => s.Namespaces },
        { "WithUser", s => s.WithUser(1, 2), s => s.User },
        { "WithHostIdentity", s => s.WithHostIdentity(1, 2), s => s.HostIdentity },
        { "WithHostIdRange", s => s.WithHostIdRange(new HostIdRange(100000, 200000, 65536)), s => s.HostIdRange },
        { "AddReadOnlyBind", s => s.AddReadOnlyBind("/a"), s => s.Mounts.Length },
        { "AddWritableBind", s => s.AddWritableBind("/a"), s => s.Mounts.Length },
        { "AddTmpfs", s => s.AddTmpfs("/a"), s => s.Mounts.Length },
        { "WithTmpSize", s => s.WithTmpSize(8192), s => s.TmpSizeBytes },
        { "WithWritableRoot", s => s.WithWritableRoot(), s => s.ReadOnlyRoot },
        { "WithWallTimeLimit", s => s.WithWallTimeLimit(TimeSpan.FromSeconds(1)), s => s.WallTimeLimit },
        { "WithOutputLimit", s => s.WithOutputLimit(1), s => s.OutputLimitBytes },
        { "WithStandardInput", s => s.WithStandardInput("in"), s => s.StandardInput?.Length },
        { "WithInheritedStandardStreams", s => s.WithInheritedStandardStreams(), s => s.InheritStandardStreams },
        { "WithSetupTimeout", s => s.WithSetupTimeout(TimeSpan.FromSeconds(1)), s => s.SetupTimeout },
        { "WithOpenFilesLimit", s => s.WithOpenFilesLimit(3), s => s.OpenFilesLimit },
        { "WithMemoryLimit", s => s.WithMemoryLimit(64 << 20), s => s.MemoryLimitBytes },
        { "WithProcessLimit", s => s.WithProcessLimit(16), s => s.ProcessLimit },
        { "WithCpuTimeLimit", s => s.WithCpuTimeLimit(TimeSpan.FromSeconds(1)), s => s.CpuTimeLimit },
        { "WithCpuQuota", s => s.WithCpuQuota(0.5), s => s.CpuQuota },
        { "WithFileSizeLimit", s => s.WithFileSizeLimit(1024), s => s.FileSizeLimitBytes },
        { "WithStackLimit", s => s.WithStackLimit(1 << 20), s => s.StackLimitBytes },
        { "WithRlimitFallback", s => s.WithRlimitFallback(), s => s.AllowRlimitFallback },
        { "WithoutOwnCgroup", s => s.WithoutOwnCgroup(), s => s.UsesOwnCgroup },
        { "WithCpuSet", s => s.WithCpuSet("0", "0"), s => $"{s.CpuSet}/{s.MemoryNodeSet}" },
        { "AddIoLimit", s => s.AddIoLimit("254:0", writeBytesPerSecond: 1 << 20), s => string.Join(',', s.IoLimits) },
        { "WithOutputForwarding", s => s.WithOutputForwarding(Stream.Null, Stream.Null), s => s.StandardOutputForwarding is null && s.StandardErrorForwarding is null },
        { "WithInheritedStandardInput", s => s.WithInheritedStandardInput(), s => s.InheritStandardInput },
        { "WithSeccomp", s => s.WithSeccomp(global::Sandbox.Seccomp.SeccompPolicy.Judge), s => s.Seccomp },
        { "WithImage", s => s.WithImage(new SandboxImage("test/i:1", ["/layer"], global::Sandbox.Images.Oci.ContainerConfig.Empty, UserXattr: true)), s => s.Image?.Reference },
        { "WithImageWriteSize", s => s.WithImageWriteSize(8192), s => s.ImageWriteSizeBytes },
        { "WithImageWritableLayer", s => s.WithImageWritableLayer("/store/containers/1/upper", "/store/containers/1/work"), s => s.ImageUpperDirectory + ":" + s.ImageWorkDirectory },
        { "WithSeccompSupervisor", s => s.WithSeccompSupervisor((_, _) => ValueTask.FromResult(global::Sandbox.Seccomp.SeccompNotificationResponse.Continue)), s => s.SeccompSupervisor is null },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void A_change_returns_a_changed_copy_and_leaves_the_original_alone(string name, Func<SandboxSpec, SandboxSpec> change, Func<SandboxSpec, object?> observe)
    {
        var original = SandboxSpec.Command("/bin/true");
        var before = observe(original);

        var changed = change(original);

        Assert.NotSame(original, changed);
        Assert.Equal(before, observe(original));
        Assert.True(!Equals(before, observe(changed)), $"{name} changed nothing.");
    }

    [Fact]
    public void Every_WithX_and_AddX_method_is_covered_by_the_change_table()
    {
        var covered = Changes.Select(row => (string)row[0]).ToHashSet();
        var methods = typeof(SandboxSpec).GetMethods()
            .Where(m => m.ReturnType == typeof(SandboxSpec) && !m.IsStatic && (m.Name.StartsWith("With", StringComparison.Ordinal) || m.Name.StartsWith("Add", StringComparison.Ordinal)))
            .Select(m => m.Name)
            .Distinct();

        Assert.DoesNotContain(methods, m => !covered.Contains(m));
    }

    [Fact]
    public void Adding_mounts_appends_in_order_and_shares_nothing_with_the_original()
    {
        var one = Spec.AddReadOnlyBind("/a");
        var two = one.AddWritableBind("/b", "/c");
        var other = one.AddTmpfs("/t", 8192);

        Assert.Equal([new BindMount("/a", "/a")], one.Mounts.AsEnumerable());
        Assert.Equal([new BindMount("/a", "/a"), new BindMount("/b", "/c", Writable: true)], two.Mounts.AsEnumerable());
        Assert.Equal([new BindMount("/a", "/a"), new TmpfsMount("/t", 8192)], other.Mounts.AsEnumerable());
    }

    [Fact]
    public void Setting_an_environment_variable_keeps_the_others()
    {
        var spec = Spec.WithEnvironmentVariable("LANG", "C").WithEnvironmentVariable("PATH", "/bin");

        Assert.Equal("C", spec.Environment["LANG"]);
        Assert.Equal("/bin", spec.Environment["PATH"]);
        Assert.Equal("/tmp", spec.Environment["HOME"]);
        Assert.Equal(SandboxSpec.DefaultEnvironment["PATH"], Spec.Environment["PATH"]);
    }

    [Fact]
    public void The_defaults_are_the_secure_ones()
    {
        Assert.Equal("/bin/true", Spec.Program);
        Assert.Empty(Spec.Arguments);
        Assert.Equal(SandboxNamespaces.All, Spec.Namespaces);
        Assert.True(Spec.ReadOnlyRoot);
        Assert.Equal(["HOME", "PATH"], Spec.Environment.Keys);
        Assert.Equal(SandboxIdentity.DefaultSandboxUser, Spec.User);
        Assert.NotEqual(0u, Spec.User.Uid);
        Assert.Equal(SandboxIdentity.Nobody, Spec.HostIdentity);
        Assert.Empty(Spec.Mounts);
        Assert.Equal(64L << 20, Spec.TmpSizeBytes);
        Assert.Equal("sandbox", Spec.Hostname);
        Assert.Equal("/", Spec.WorkingDirectory);
        Assert.Null(Spec.StandardInput);
        Assert.False(Spec.InheritStandardStreams);
        Assert.Equal(1024ul, Spec.OpenFilesLimit);
        Assert.Equal(TimeSpan.FromSeconds(10), Spec.SetupTimeout);
        Assert.Null(Spec.WallTimeLimit);
    }

    [Fact]
    public void The_default_spec_is_valid_for_root_and_rootless_hosts()
    {
        Assert.Empty(Spec.Validate(hostIsRoot: false));
        Assert.Empty(Spec.Validate(hostIsRoot: true));
    }

    [Fact]
    public void Validation_reports_every_problem_at_once_each_naming_its_value()
    {
        var spec = SandboxSpec.Command("/bin/true", "ok")
            .WithHostname("bad_host!")
            .WithWorkingDirectory("relative/dir")
            .WithTmpSize(100)
            .WithOutputLimit(-5)
            .WithOpenFilesLimit(2)
            .WithWallTimeLimit(TimeSpan.FromSeconds(-3))
            .WithEnvironmentVariable("BAD=NAME", "v")
            .AddReadOnlyBind("src/relative", "/in")
            .AddTmpfs("/scratch", 10)
            .AddTmpfs("/proc/sys")
            .AddTmpfs("/in");

        var problems = spec.Validate(hostIsRoot: false);

        string[] values = ["bad_host!", "relative/dir", "100", "-5", "OpenFilesLimit 2", "-00:00:03", "BAD=NAME", "src/relative", "size 10", "/proc/sys", "'/in' is used twice"];
        Assert.Equal(values.Length, problems.Count);
        foreach (var value in values)
            Assert.Single(problems, p => p.Contains(value, StringComparison.Ordinal));
    }

    [Fact]
    public void Validation_rejects_a_rootless_host_without_a_user_namespace_but_allows_root()
    {
        var spec = Spec.WithoutNamespaces(SandboxNamespaces.User);

        var problem = Assert.Single(spec.Validate(hostIsRoot: false));
        Assert.Contains("User", problem, StringComparison.Ordinal);
        Assert.Empty(spec.Validate(hostIsRoot: true));
    }

    [Theory]
    [InlineData(SandboxNamespaces.Pid, "Pid")]
    [InlineData(SandboxNamespaces.Mount, "Mount")]
    public void Validation_requires_the_namespaces_the_sandbox_cannot_work_without(SandboxNamespaces ns, string name)
    {
        var problem = Assert.Single(Spec.WithoutNamespaces(ns).Validate(hostIsRoot: true));

        Assert.Contains($"lack {name}", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_rejects_a_hostname_without_a_UTS_namespace()
    {
        var spec = Spec.WithHostname("judge").WithoutNamespaces(SandboxNamespaces.Uts);

        Assert.Contains("'judge' needs the UTS namespace", Assert.Single(spec.Validate(hostIsRoot: false)), StringComparison.Ordinal);
        Assert.Empty(Spec.WithoutNamespaces(SandboxNamespaces.Uts).Validate(hostIsRoot: false));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("under_score")]
    [InlineData("ünï")]
    public void Validation_rejects_a_hostname_outside_letters_digits_dash_and_dot(string hostname)
    {
        Assert.Single(Spec.WithHostname(hostname).Validate(hostIsRoot: false));
    }

    [Fact]
    public void Validation_accepts_a_hostname_of_64_characters_but_not_65()
    {
        Assert.Empty(Spec.WithHostname(new string('a', 64)).Validate(hostIsRoot: false));
        Assert.Single(Spec.WithHostname(new string('a', 65)).Validate(hostIsRoot: false));
    }

    [Fact]
    public void Validation_rejects_NUL_in_the_program_arguments_or_environment()
    {
        Assert.Single(SandboxSpec.Command("/bin/t\0rue").Validate(hostIsRoot: false));
        Assert.Single(Spec.WithArguments("a\0b").Validate(hostIsRoot: false));
        Assert.Single(Spec.WithEnvironmentVariable("A", "x\0y").Validate(hostIsRoot: false));
        Assert.Single(Spec.WithEnvironmentVariable("A\0B", "x").Validate(hostIsRoot: false));
    }

    [Fact]
    public void Validation_rejects_an_empty_program_and_an_empty_variable_name()
    {
        Assert.Contains("Program is empty", Assert.Single(SandboxSpec.Command("").Validate(hostIsRoot: false)), StringComparison.Ordinal);
        Assert.Single(Spec.WithEnvironmentVariable("", "x").Validate(hostIsRoot: false));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/..")]
    [InlineData("/data/../")]
    public void Validation_rejects_a_mount_on_the_root(string target)
    {
        Assert.Contains("is the root", Assert.Single(Spec.AddTmpfs(target).Validate(hostIsRoot: false)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/proc")]
    [InlineData("/dev/shm")]
    [InlineData("/dev/../dev/pts")]
    [InlineData("/tmp/../proc/self")]
    public void Validation_rejects_a_mount_inside_proc_or_dev_however_it_is_spelt(string target)
    {
        Assert.Contains("inside /proc or /dev", Assert.Single(Spec.AddReadOnlyBind("/srv", target).Validate(hostIsRoot: false)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/devices")]
    [InlineData("/procedures")]
    [InlineData("/tmp/../data")]
    public void Validation_accepts_a_mount_beside_proc_and_dev(string target)
    {
        Assert.Empty(Spec.AddReadOnlyBind("/srv", target).Validate(hostIsRoot: false));
    }

    [Fact]
    public void Validation_rejects_two_mounts_on_one_target_however_it_is_spelt()
    {
        var spec = Spec.AddReadOnlyBind("/a", "/data").AddTmpfs("/data/");

        Assert.Contains("used twice", Assert.Single(spec.Validate(hostIsRoot: false)), StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_rejects_a_relative_mount_target_once_without_further_complaints_about_it()
    {
        var problem = Assert.Single(Spec.AddReadOnlyBind("/srv", "data").Validate(hostIsRoot: false));

        Assert.Contains("'data' is not absolute", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_rejects_standard_input_together_with_inherited_streams()
    {
        var spec = Spec.WithStandardInput("x").WithInheritedStandardStreams();

        Assert.Contains("choose one", Assert.Single(spec.Validate(hostIsRoot: false)), StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_rejects_a_setup_timeout_that_is_not_positive_or_does_not_fit_in_milliseconds()
    {
        Assert.Single(Spec.WithSetupTimeout(TimeSpan.Zero).Validate(hostIsRoot: false));
        Assert.Single(Spec.WithSetupTimeout(TimeSpan.FromDays(60)).Validate(hostIsRoot: false));
        Assert.Empty(Spec.WithSetupTimeout(TimeSpan.FromDays(1)).Validate(hostIsRoot: false));
    }

    [Fact]
    public void Validation_rejects_the_reserved_id_minus_one_for_the_user_and_for_a_root_hosts_identity()
    {
        Assert.Single(Spec.WithUser(uint.MaxValue, 0).Validate(hostIsRoot: false));
        Assert.Single(Spec.WithHostIdentity(0, uint.MaxValue).Validate(hostIsRoot: true));
        Assert.Empty(Spec.WithHostIdentity(0, uint.MaxValue).Validate(hostIsRoot: false));
    }

    [Theory]
    [InlineData(4095L, 1)]
    [InlineData(4096L, 0)]
    public void Validation_wants_at_least_a_page_for_tmp(long size, int problems)
    {
        Assert.Equal(problems, Spec.WithTmpSize(size).Validate(hostIsRoot: false).Count);
        Assert.Equal(problems, Spec.AddTmpfs("/scratch", size).Validate(hostIsRoot: false).Count);
    }

    [Fact]
    public void A_validation_exception_lists_every_problem()
    {
        var problems = Spec.WithTmpSize(1).WithOpenFilesLimit(0).Validate(hostIsRoot: false);

        var thrown = new SandboxValidationException(problems);

        Assert.Equal(2, thrown.Problems.Count);
        Assert.All(problems, p => Assert.Contains(p, thrown.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void CPU_sets_and_IO_limits_are_appended_and_need_a_cgroup()
    {
        var spec = Spec.WithCpuSet("0-1,3").AddIoLimit("254:0", writeBytesPerSecond: 1 << 20).AddIoLimit(new SandboxIoLimit("/dev/vdb", ReadOperationsPerSecond: 100));

        Assert.Equal("0-1,3", spec.CpuSet);
        Assert.Null(spec.MemoryNodeSet);
        Assert.Equal([new SandboxIoLimit("254:0", WriteBytesPerSecond: 1 << 20), new SandboxIoLimit("/dev/vdb", ReadOperationsPerSecond: 100)], spec.IoLimits.AsEnumerable());
        Assert.True(spec.NeedsCgroup);
        Assert.True(Spec.WithCpuSet("0").NeedsCgroup);
        Assert.True(Spec.AddIoLimit("8:0", readBytesPerSecond: 1).NeedsCgroup);
        Assert.False(Spec.NeedsCgroup);
        Assert.Empty(spec.Validate(hostIsRoot: true));
    }

    [Fact]
    public void Validation_reports_every_bad_CPU_list_and_IO_limit_at_once()
    {
        var spec = Spec
            .WithCpuSet("3-1", memoryNodes: "x")
            .AddIoLimit("sda", writeBytesPerSecond: 1)
            .AddIoLimit("8:0")
            .AddIoLimit("8:16", readBytesPerSecond: 0, writeOperationsPerSecond: -1)
            .AddIoLimit("/dev/vda", readBytesPerSecond: 1)
            .AddIoLimit("/dev/vda", writeBytesPerSecond: 1);

        var problems = spec.Validate(hostIsRoot: true);

        string[] expected =
        [
            "CpuSet '3-1' is not a CPU list",
            "MemoryNodeSet 'x' is not a memory node list",
            "device 'sda' is neither MAJOR:MINOR",
            "I/O limit on '8:0' limits nothing",
            "'8:16': read bytes per second 0 must be positive",
            "'8:16': write operations per second -1 must be positive",
            "Device '/dev/vda' has 2 I/O limits",
        ];
        Assert.Equal(expected.Length, problems.Count);
        foreach (var text in expected)
            Assert.Single(problems, p => p.Contains(text, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0-1,3")]
    [InlineData(" 2 ")]
    [InlineData("0-65535")]
    public void Validation_accepts_a_CPU_list(string cpus) => Assert.Empty(Spec.WithCpuSet(cpus).Validate(hostIsRoot: true));

    [Theory]
    [InlineData("")]
    [InlineData("1-")]
    [InlineData("-1")]
    [InlineData("0,,1")]
    [InlineData("65536")]
    [InlineData("a")]
    public void Validation_rejects_a_malformed_or_empty_CPU_list(string cpus) =>
        Assert.Contains("not a CPU list", Assert.Single(Spec.WithCpuSet(cpus).Validate(hostIsRoot: true)), StringComparison.Ordinal);

    [Fact]
    public void Validation_rejects_forwarding_together_with_inherited_streams_and_unwritable_targets()
    {
        var readOnly = new MemoryStream([], writable: false);

        var problems = Spec.WithOutputForwarding(readOnly, readOnly).WithInheritedStandardStreams().Validate(hostIsRoot: false);

        Assert.Equal(3, problems.Count);
        Assert.Single(problems, p => p.Contains("Output forwarding is set together with inherited standard streams", StringComparison.Ordinal));
        Assert.Single(problems, p => p.Contains("forward standard output to is not writable", StringComparison.Ordinal));
        Assert.Single(problems, p => p.Contains("forward standard error to is not writable", StringComparison.Ordinal));
        Assert.Empty(Spec.WithOutputForwarding(new MemoryStream(), new MemoryStream()).WithInheritedStandardInput().Validate(hostIsRoot: false));
    }

    [Fact]
    public void Validation_rejects_standard_input_bytes_together_with_an_inherited_standard_input()
    {
        var spec = Spec.WithStandardInput("x").WithInheritedStandardInput();

        Assert.Contains("inherited standard input: choose one", Assert.Single(spec.Validate(hostIsRoot: false)), StringComparison.Ordinal);
    }
}
