using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Sandbox.Seccomp;
using Sandbox.Seccomp.Bpf;
using Sandbox.Seccomp.Tables;

namespace Sandbox.Tests.Seccomp;

/// <summary>
/// libseccomp (libseccomp.so.2, Debian's libseccomp2), used as an independent compiler to compare ours with:
/// a filter built through its API and exported with seccomp_export_bpf, then run through our interpreter.
/// Test and benchmark code only (this file is linked into benchmarks/Sandbox.Benchmarks, whose seccomp-cost mode
/// times libseccomp's filters against ours); nothing in Sandbox uses libseccomp.
/// </summary>
internal static partial class Libseccomp
{
    private const string Library = "libseccomp.so.2";

    /// <summary>__NR_SCMP_ERROR: what seccomp_syscall_resolve_name returns for a name it does not know.</summary>
    public const int UnknownSyscall = -1;

    private const int AttributeBadArchitectureAction = 2; // SCMP_FLTATR_ACT_BADARCH
    private const int AttributeNoNewPrivileges = 3; // SCMP_FLTATR_CTL_NNP

    /// <summary>struct scmp_arg_cmp.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ArgumentComparison
    {
        public uint Argument;
        public int Operator;
        public ulong DatumA;
        public ulong DatumB;
    }

    [LibraryImport(Library, EntryPoint = "seccomp_init")]
    private static partial nint Init(uint defaultAction);

    [LibraryImport(Library, EntryPoint = "seccomp_release")]
    private static partial void Release(nint context);

    [LibraryImport(Library, EntryPoint = "seccomp_attr_set")]
    private static partial int SetAttribute(nint context, int attribute, uint value);

    [LibraryImport(Library, EntryPoint = "seccomp_syscall_resolve_name", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int ResolveNameNative(string name);

    [LibraryImport(Library, EntryPoint = "seccomp_rule_add_array")]
    private static unsafe partial int RuleAddArray(nint context, uint action, int syscall, uint count, ArgumentComparison* comparisons);

    [LibraryImport(Library, EntryPoint = "seccomp_export_bpf")]
    private static partial int ExportBpf(nint context, int fd);

    [LibraryImport(Library, EntryPoint = "seccomp_version")]
    private static partial nint VersionNative();

    /// <summary>The library's version, "2.5.4".</summary>
    public static string Version
    {
        get
        {
            nint v = VersionNative();
            return $"{Marshal.ReadInt32(v)}.{Marshal.ReadInt32(v, 4)}.{Marshal.ReadInt32(v, 8)}";
        }
    }

    /// <summary>The native number libseccomp gives <paramref name="name"/> (negative: unknown, or a pseudo-syscall of another architecture).</summary>
    public static int ResolveName(string name) => ResolveNameNative(name);

    /// <summary>SCMP_CMP_* for our operator.</summary>
    public static int OperatorOf(ComparisonOperator op) => op switch
    {
        ComparisonOperator.NotEqual => 1,
        ComparisonOperator.LessThan => 2,
        ComparisonOperator.LessOrEqual => 3,
        ComparisonOperator.Equal => 4,
        ComparisonOperator.GreaterOrEqual => 5,
        ComparisonOperator.GreaterThan => 6,
        ComparisonOperator.MaskedEqual => 7,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>struct scmp_arg_cmp for our condition (masked: datum_a is the mask, datum_b the value).</summary>
    public static ArgumentComparison ComparisonOf(ArgumentCondition c) => new()
    {
        Argument = (uint)c.Index,
        Operator = OperatorOf(c.Operator),
        DatumA = c.Operator == ComparisonOperator.MaskedEqual ? c.Mask : c.Value,
        DatumB = c.Operator == ComparisonOperator.MaskedEqual ? c.Value : 0,
    };

    /// <summary>
    /// Builds a filter for the native architecture with libseccomp: <paramref name="defaultAction"/>, a
    /// foreign architecture kills the process, and each rule (syscall number, action, conditions) added in
    /// order. Returns the exported program.
    /// </summary>
    public static unsafe ImmutableArray<BpfInstruction> Compile(uint defaultAction, IEnumerable<(int Syscall, uint Action, ArgumentComparison[] Conditions)> rules)
    {
        nint context = Init(defaultAction);
        if (context == 0)
            throw new InvalidOperationException("seccomp_init failed.");
        try
        {
            Check(SetAttribute(context, AttributeBadArchitectureAction, SeccompAction.RetKillProcess), "seccomp_attr_set(ACT_BADARCH)");
            Check(SetAttribute(context, AttributeNoNewPrivileges, 0), "seccomp_attr_set(CTL_NNP)");
            foreach (var (syscall, action, conditions) in rules)
                fixed (ArgumentComparison* array = conditions)
                    Check(RuleAddArray(context, action, syscall, (uint)conditions.Length, array),
                        $"seccomp_rule_add_array(syscall {syscall}, action 0x{action:x8}, {conditions.Length} conditions)");
            string path = Path.Combine(Path.GetTempPath(), $"libseccomp-{Guid.NewGuid():N}.bpf");
            try
            {
                using (var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite))
                    Check(ExportBpf(context, (int)handle.DangerousGetHandle()), "seccomp_export_bpf");
                return SeccompProgram.ReadInstructions(File.ReadAllBytes(path));
            }
            finally
            {
                File.Delete(path);
            }
        }
        finally
        {
            Release(context);
        }
    }

    /// <summary>
    /// Builds <paramref name="policy"/> with libseccomp for the native architecture: its default action, and its rules
    /// in order, each with its conditions. Rules naming a syscall this architecture lacks are skipped, as our compiler
    /// does. So is a rule that gives the default action, which libseccomp refuses; that is exact only when no later
    /// rule of the same syscall gives another action (e.g. Default's clone3 → ENOSYS, its default).
    /// </summary>
    /// <exception cref="NotSupportedException">
    /// The policy relies on the first matching rule deciding where libseccomp's rules do not: a syscall with an
    /// unconditional rule and other rules with another action (libseccomp lets the unconditional rule win whatever its
    /// place, e.g. Default's "personality allowed for these personas, else EPERM"), or a rule giving the default action
    /// before other rules of its syscall.
    /// </exception>
    public static ImmutableArray<BpfInstruction> Compile(SeccompPolicy policy)
    {
        var table = SyscallTable.For(SeccompArchitectures.Native ?? throw new PlatformNotSupportedException("x86_64 or aarch64 only"));
        uint defaultAction = policy.DefaultAction.ReturnValue;
        var rules = policy.Rules.Where(r => table.TryGetNumber(r.Syscall, out _)).ToList();
        foreach (var group in rules.GroupBy(r => r.Syscall, StringComparer.Ordinal))
        {
            var actions = group.Select(r => r.Action.ReturnValue).Distinct().Count();
            if (actions > 1 && group.Any(r => r.Conditions.IsDefaultOrEmpty))
                throw new NotSupportedException($"'{group.Key}' has an unconditional rule and rules with another action ({string.Join("; ", group)}): libseccomp would let the unconditional one win wherever it stands.");
            if (actions > 1 && group.SkipLast(1).Any(r => r.Action.ReturnValue == defaultAction))
                throw new NotSupportedException($"'{group.Key}' has a rule giving the default action before other rules ({string.Join("; ", group)}): libseccomp refuses such a rule, and leaving it out would change what the later ones decide.");
        }
        return Compile(defaultAction, rules
            .Where(r => r.Action.ReturnValue != defaultAction)
            .Select(r => (Number(table, r.Syscall), r.Action.ReturnValue, r.Conditions.Select(ComparisonOf).ToArray())));
    }

    private static int Number(SyscallTable table, string name) => table.TryGetNumber(name, out int nr) ? nr : throw new ArgumentException($"'{name}' is not a syscall here.", nameof(name));

    private static void Check(int result, string what)
    {
        if (result < 0)
            throw new InvalidOperationException($"{what} failed: {-result} ({Sandbox.Interop.ErrnoNames.Of(-result)}).");
    }
}
