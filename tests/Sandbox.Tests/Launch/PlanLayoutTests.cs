using System.Reflection;
using System.Runtime.InteropServices;
using Sandbox.Interop;
using Sandbox.Launch;
using Sandbox.Namespaces;

namespace Sandbox.Tests.Launch;

/// <summary>
/// The C# mirror of the launcher's wire format (Launch/PlanLayout.cs) against the C header it mirrors, as a
/// C compiler lays it out; and the system constants the C# code copies, against the system headers.
/// </summary>
public sealed class PlanLayoutTests(NativeHeader header) : IClassFixture<NativeHeader>
{
    private static readonly Dictionary<string, Type> Mirrors = new(StringComparer.Ordinal)
    {
        ["sbx_plan"] = typeof(PlanHeader),
        ["sbx_mount_op"] = typeof(MountOpRecord),
        ["sbx_rlimit"] = typeof(RlimitRecord),
        ["sbx_setup_error"] = typeof(SetupErrorRecord),
        ["sbx_exit_report"] = typeof(ExitReportRecord),
        ["sbx_launch_result"] = typeof(LaunchResultRecord),
    };

    /// <summary>C field names whose C# name is not simply the PascalCase of the snake_case.</summary>
    private static readonly Dictionary<string, string> FieldAliases = new(StringComparer.Ordinal)
    {
        ["data_len"] = "DataLength",
        ["user_usec"] = "UserMicroseconds",
        ["system_usec"] = "SystemMicroseconds",
    };

    private static readonly (string Prefix, Type Enum)[] EnumPrefixes =
    [
        ("SBX_PLAN_", typeof(PlanFlags)), ("SBX_OP_", typeof(MountOpKind)), ("SBX_MNT_", typeof(MountFlags)), ("SBX_STAGE_", typeof(SetupStage)), ("SBX_JOIN_", typeof(CgroupJoinMethod)),
    ];

    /// <summary>Enum constant names whose C# member is not simply the PascalCase.</summary>
    private static readonly Dictionary<string, string> MemberAliases = new(StringComparer.Ordinal)
    {
        ["MKDIR"] = "MakeDirectory",
        ["MKFILE"] = "MakeFile",
        ["READONLY"] = "ReadOnly",
        ["ROOT_READONLY"] = "RootReadOnly",
        ["DROP_CAPS"] = "DropCapabilities",
        ["NO_NEW_PRIVS"] = "NoNewPrivileges",
        ["NOSUID"] = "NoSuid",
        ["NODEV"] = "NoDev",
        ["NOEXEC"] = "NoExec",
        ["USERXATTR"] = "UserXattr",
    };

    private static readonly Dictionary<string, long> MirroredDefines = new(StringComparer.Ordinal)
    {
        ["SBX_PLAN_MAGIC"] = PlanConstants.PlanMagic,
        ["SBX_PLAN_VERSION"] = PlanConstants.PlanVersion,
        ["SBX_ERROR_MAGIC"] = PlanConstants.ErrorMagic,
        ["SBX_EXIT_MAGIC"] = PlanConstants.ExitMagic,
        ["SBX_MAX_MOUNT_OPS"] = PlanConstants.MaxMountOps,
        ["SBX_MAX_RLIMITS"] = PlanConstants.MaxRlimits,
        ["SBX_MAX_CGROUP_FILES"] = PlanConstants.MaxCgroupFiles,
        ["SBX_DETAIL_SIZE"] = PlanConstants.DetailSize,
        ["SBX_MAX_SECCOMP_INSTRUCTIONS"] = PlanConstants.MaxSeccompInstructions,
    };

    /// <summary>#defines shared by the launcher and sandbox-init only: the host never sees them.</summary>
    private static readonly HashSet<string> NativeOnlyDefines = new(StringComparer.Ordinal) { "SBX_INIT_ERROR_FD", "SBX_INIT_REPORT_FD", "SBX_INIT_SECCOMP_FD", "SBX_INIT_NOTIFY_FD" };

    public static TheoryData<string> StructNames => [.. Mirrors.Keys];

    [Fact]
    public void Every_struct_of_the_header_has_a_CSharp_mirror()
    {
        Assert.Equal(Mirrors.Keys.Order(StringComparer.Ordinal), header.Structs.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(StructNames))]
    public void A_mirror_has_the_size_of_its_C_struct(string name)
    {
        Assert.Equal(header.Number("sizeof", name), Marshal.SizeOf(Mirrors[name]));
    }

    [Theory]
    [MemberData(nameof(StructNames))]
    public void A_mirror_declares_the_fields_of_its_C_struct_in_the_same_order(string name)
    {
        var expected = header.Structs[name].Select(f => CSharpFieldName(f.Name));
        var actual = FieldsByOffset(Mirrors[name]).Select(f => f.Name);

        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(StructNames))]
    public void Every_field_of_a_mirror_has_the_offset_size_and_signedness_of_its_C_field(string name)
    {
        var type = Mirrors[name];
        var mismatches = new List<string>();
        foreach (var c in header.Structs[name])
        {
            var field = type.GetField(CSharpFieldName(c.Name), BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
            if (field is null)
            {
                mismatches.Add($"{c.Name}: no field {CSharpFieldName(c.Name)}");
                continue;
            }
            long offset = Marshal.OffsetOf(type, field.Name);
            long size = Marshal.SizeOf(field.FieldType);
            if (offset != header.Number("offsetof", $"{name}.{c.Name}"))
                mismatches.Add($"{c.Name}: offset C {header.Number("offsetof", $"{name}.{c.Name}")}, C# {offset}");
            if (size != header.Number("sizeof", $"{name}.{c.Name}"))
                mismatches.Add($"{c.Name}: size C {header.Number("sizeof", $"{name}.{c.Name}")}, C# {size}");
            if (c.IsScalar)
            {
                bool signed = field.FieldType == typeof(int) || field.FieldType == typeof(long) || field.FieldType == typeof(short) || field.FieldType == typeof(sbyte);
                if (signed != (header.Number("signed", $"{name}.{c.Name}") != 0))
                    mismatches.Add($"{c.Name} ({c.Type}): C# {field.FieldType.Name} differs in signedness");
            }
        }

        Assert.True(mismatches.Count == 0, $"struct {name} vs {type.Name}:\n" + string.Join('\n', mismatches));
    }

    [Fact]
    public void Every_enum_constant_of_the_header_has_the_same_value_in_CSharp()
    {
        var mismatches = new List<string>();
        foreach (var constant in header.EnumConstants)
        {
            var (type, member) = CSharpMember(constant);
            if (!Enum.TryParse(type, member, ignoreCase: false, out var value) || !Enum.IsDefined(type, value))
                mismatches.Add($"{constant}: no {type.Name}.{member}");
            else if (Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) != header.Number("const", constant))
                mismatches.Add($"{constant} = {header.Number("const", constant)}, {type.Name}.{member} = {Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)}");
        }

        Assert.NotEmpty(header.EnumConstants);
        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
    }

    [Fact]
    public void Every_member_of_the_mirrored_enums_is_a_constant_of_the_header()
    {
        var declared = header.EnumConstants.Select(CSharpMember).ToHashSet();
        var extra = EnumPrefixes
            .SelectMany(p => Enum.GetNames(p.Enum).Select(n => (p.Enum, n)))
            .Where(m => Convert.ToInt64(Enum.Parse(m.Enum, m.n), System.Globalization.CultureInfo.InvariantCulture) != 0)
            .Where(m => !declared.Contains(m))
            .Select(m => $"{m.Enum.Name}.{m.n}");

        Assert.Empty(extra);
    }

    [Fact]
    public void Every_define_of_the_header_has_the_same_value_in_PlanConstants()
    {
        Assert.Equal(
            MirroredDefines.Keys.Concat(NativeOnlyDefines).Order(StringComparer.Ordinal),
            header.Defines.Order(StringComparer.Ordinal));
        foreach (var (define, value) in MirroredDefines)
            Assert.True(header.Number("const", define) == value, $"{define} is {header.Number("const", define)} in C, {value} in C#.");
    }

    [Theory]
    [InlineData("CLONE_NEWNS", CloneFlags.NewNs)]
    [InlineData("CLONE_NEWCGROUP", CloneFlags.NewCgroup)]
    [InlineData("CLONE_NEWUTS", CloneFlags.NewUts)]
    [InlineData("CLONE_NEWIPC", CloneFlags.NewIpc)]
    [InlineData("CLONE_NEWUSER", CloneFlags.NewUser)]
    [InlineData("CLONE_NEWPID", CloneFlags.NewPid)]
    [InlineData("CLONE_NEWNET", CloneFlags.NewNet)]
    [InlineData("RLIMIT_CORE", ResourceLimit.Core)]
    [InlineData("RLIMIT_NOFILE", ResourceLimit.NoFile)]
    [InlineData("SYS_open_tree", LinuxSyscalls.SysOpenTree)]
    [InlineData("SYS_mount_setattr", LinuxSyscalls.SysMountSetattr)]
    [InlineData("OPEN_TREE_CLONE", LinuxSyscalls.OpenTreeClone)]
    [InlineData("OPEN_TREE_CLOEXEC", LinuxSyscalls.OpenTreeCloexec)]
    [InlineData("AT_EMPTY_PATH", LinuxSyscalls.AtEmptyPath)]
    [InlineData("AT_SYMLINK_NOFOLLOW", LinuxSyscalls.AtSymlinkNoFollow)]
    [InlineData("MOUNT_ATTR_IDMAP", LinuxSyscalls.MountAttrIdmap)]
    [InlineData("MOUNT_ATTR_RDONLY", LinuxSyscalls.MountAttrRdonly)]
    public void A_copied_system_constant_has_the_value_of_the_system_header(string name, ulong value)
    {
        Assert.Equal(header.Number("const", name), (long)value);
    }

    [Fact]
    public void Every_errno_name_is_that_of_errno_h()
    {
        var wrong = header.ErrnoNumbers
            .Where(n => header.Number("errno", ErrnoNames.Of(n)) != n)
            .Select(n => $"{ErrnoNames.Of(n)} is {header.Number("errno", ErrnoNames.Of(n))} in errno.h, {n} in ErrnoNames");

        Assert.NotEmpty(header.ErrnoNumbers);
        Assert.Empty(wrong);
    }

    [Fact]
    public void A_wait_status_word_decodes_as_the_sys_wait_h_macros_do()
    {
        foreach (int word in NativeHeader.WaitStatusWords)
        {
            var c = header.Values[$"wait {word}"].Split(' ').Select(int.Parse).ToArray();
            var (exited, exitStatus, signaled, termSig, coreDumped) = (c[0] != 0, c[1], c[2] != 0, c[3], c[4] != 0);
            var status = WaitStatus.FromWaitStatusWord(word);

            Assert.Equal(exited ? exitStatus : null, status.ExitCode);
            Assert.Equal(signaled ? termSig : null, status.Signal);
            Assert.Equal(signaled && coreDumped, status.CoreDumped);
        }
    }

    [Theory]
    [InlineData(1u, typeof(PlanHeader))]
    [InlineData(2u, typeof(MountOpRecord))]
    [InlineData(3u, typeof(RlimitRecord))]
    [InlineData(4u, typeof(SetupErrorRecord))]
    [InlineData(5u, typeof(ExitReportRecord))]
    [InlineData(6u, typeof(LaunchResultRecord))]
    public void The_built_launcher_library_agrees_on_the_size_of_each_record(uint record, Type mirror)
    {
        Assert.Equal((uint)Marshal.SizeOf(mirror), NativeLauncherMethods.LayoutSize(record));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(7u)]
    public void The_built_launcher_library_knows_no_other_record(uint record)
    {
        Assert.Equal(0u, NativeLauncherMethods.LayoutSize(record));
    }

    [Theory]
    [InlineData("past the end")]
    [InlineData("on a bind")]
    public void The_built_launcher_refuses_layer_fds_outside_the_plan_or_on_anything_but_an_overlay_before_it_does_anything(string damage)
    {
        var plan = new LaunchPlan
        {
            Arguments = ["/bin/true"],
            Mounts =
            [
                new MountOp(MountOpKind.Overlay, "/", "/l/b:/l/a", "size=4096") { LayerFds = [-1, -1] },
                new MountOp(MountOpKind.Bind, "/x", "/l/a"),
            ],
        };
        var block = PlanWriter.Write(plan);
        var h = MemoryMarshal.Read<PlanHeader>(block);
        var records = MemoryMarshal.Cast<byte, MountOpRecord>(block.AsSpan((int)h.Mounts, 2 * Marshal.SizeOf<MountOpRecord>()));
        if (damage == "past the end")
            records[0].LayerFds = (uint)block.Length - 4; // room for one of the two
        else
            records[1].LayerFds = records[0].LayerFds;

        var result = LinuxSyscalls.Instance.Launch(block);

        Assert.Equal(SetupStage.Plan, result.Error?.Stage);
        Assert.Contains("malformed plan", result.Error!.Detail, StringComparison.Ordinal);
    }

    private static string CSharpFieldName(string c) => FieldAliases.TryGetValue(c, out var alias) ? alias : PascalCase(c);

    private static (Type Enum, string Member) CSharpMember(string constant)
    {
        var (prefix, type) = EnumPrefixes.Single(p => constant.StartsWith(p.Prefix, StringComparison.Ordinal));
        string rest = constant[prefix.Length..];
        return (type, MemberAliases.TryGetValue(rest, out var alias) ? alias : PascalCase(rest));
    }

    private static string PascalCase(string snake) =>
        string.Concat(snake.Split('_').Select(w => char.ToUpperInvariant(w[0]) + w[1..].ToLowerInvariant()));

    private static IEnumerable<FieldInfo> FieldsByOffset(Type type) =>
        type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .OrderBy(f => Marshal.OffsetOf(type, f.Name));
}
