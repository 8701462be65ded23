using System.Collections.Immutable;
using Sandbox.Seccomp.Bpf;
using Sandbox.Seccomp.Profiles;
using Sandbox.Seccomp.Tables;

namespace Sandbox.Seccomp;

/// <summary>
/// A seccomp policy: what happens to each syscall the sandboxed program makes. Immutable; build one with
/// <see cref="Create"/> (or extend a built-in with <see cref="ToBuilder"/>), or import a Docker/OCI profile
/// with <see cref="DockerProfileImporter"/>.
/// </summary>
/// <remarks>
/// <para>Evaluation, which the compiled filter reproduces exactly: a call from another architecture than the
/// one compiled for (and, on x86_64, an x32 syscall number: one at or above 0x40000000, except -1, which a
/// tracer uses to skip a syscall) kills the process; otherwise the rules of the
/// syscall are tried in the order they were added and the first whose conditions all hold decides; when none
/// does, <see cref="DefaultAction"/> applies.</para>
/// <para>Rules name syscalls; names are resolved per architecture when compiled. A name that exists on none of
/// the supported architectures is an error; one that exists on another architecture only (<c>open</c> on
/// aarch64) is skipped there.</para>
/// </remarks>
public sealed record SeccompPolicy
{
    /// <summary>A policy with <paramref name="defaultAction"/> and <paramref name="rules"/> (see <see cref="Create"/> for the fluent way).</summary>
    public SeccompPolicy(SeccompAction defaultAction, IEnumerable<SyscallRule> rules)
    {
        DefaultAction = defaultAction;
        Rules = [.. rules];
    }

    /// <summary>What happens to a syscall no rule matches.</summary>
    public SeccompAction DefaultAction { get; init; }

    /// <summary>The rules, in the order they are tried.</summary>
    public ImmutableArray<SyscallRule> Rules { get; init; }

    /// <summary>
    /// The default profile: an allow-list of what ordinary programs need, comparable in coverage to Docker's
    /// default. It refuses (EPERM) mount and friends, ptrace, keyrings, bpf, namespace creation and entry,
    /// kexec, module loading, personality changes, clock setting, sockets of the AF_ALG and AF_VSOCK families
    /// and clone with namespace flags; clone3 fails with ENOSYS so that libc falls back to clone; any other
    /// syscall fails with ENOSYS. See <see cref="DefaultProfile"/>.
    /// </summary>
    public static SeccompPolicy Default => DefaultProfile.Policy;

    /// <summary>
    /// A stricter profile for running untrusted solutions: the default profile without new processes (threads
    /// only), without sockets and without io_uring. See <see cref="JudgeProfile"/> (which can allow processes).
    /// </summary>
    public static SeccompPolicy Judge => JudgeProfile.Policy;

    /// <summary>No filtering: every syscall is allowed. Choosing it is explicit; such a policy needs no filter at all (see <see cref="IsUnconfined"/>).</summary>
    public static SeccompPolicy Unconfined { get; } = new(SeccompAction.Allow, []);

    /// <summary>Whether the policy allows everything (no filter is needed).</summary>
    public bool IsUnconfined => DefaultAction.Kind == SeccompActionKind.Allow && (Rules.IsDefaultOrEmpty || Rules.All(r => r.Action.Kind == SeccompActionKind.Allow));

    /// <summary>Starts a policy whose unmatched syscalls get <paramref name="defaultAction"/>.</summary>
    public static SeccompPolicyBuilder Create(SeccompAction defaultAction) => new(defaultAction, []);

    /// <summary>A builder holding this policy's rules, to extend or change it.</summary>
    public SeccompPolicyBuilder ToBuilder() => new(DefaultAction, Rules.IsDefault ? [] : Rules);

    /// <summary>Every problem with the policy that does not depend on the architecture; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (ActionProblem(DefaultAction) is { } defaultProblem)
            problems.Add($"DefaultAction: {defaultProblem}");
        if (Rules.IsDefault)
        {
            problems.Add("Rules is not initialised: use [] for none.");
            return problems;
        }
        for (int i = 0; i < Rules.Length; i++)
        {
            var rule = Rules[i];
            if (rule is null)
            {
                problems.Add($"Rules[{i}] is null.");
                continue;
            }
            string where = $"Rules[{i}] ({rule.Syscall})";
            if (string.IsNullOrWhiteSpace(rule.Syscall))
                problems.Add($"Rules[{i}]: the syscall name is empty: name a syscall, e.g. \"openat\".");
            else if (!SyscallTable.IsKnownAnywhere(rule.Syscall))
                problems.Add($"{where}: '{rule.Syscall}' is not a syscall of x86_64 or aarch64 (tables from {SyscallTable.X86_64.Source} and {SyscallTable.Aarch64.Source})"
                    + (SyscallTable.Suggest(rule.Syscall) is { } suggestion ? $"; did you mean '{suggestion}'?" : "; check the spelling (names are the kernel's, e.g. \"newfstatat\", \"rt_sigaction\")."));
            if (ActionProblem(rule.Action) is { } actionProblem)
                problems.Add($"{where}: {actionProblem}");
            if (rule.Conditions.IsDefault)
                problems.Add($"{where}: Conditions is not initialised: use [] for none.");
            else
                for (int j = 0; j < rule.Conditions.Length; j++)
                    if (rule.Conditions[j].Problem() is { } conditionProblem)
                        problems.Add($"{where} condition {j} ({rule.Conditions[j]}): {conditionProblem}.");
        }
        return problems;
    }

    /// <summary>Every problem with the policy on <paramref name="architecture"/>, including a compiled program over the kernel's size limit.</summary>
    public IReadOnlyList<string> Validate(SeccompArchitecture architecture)
    {
        var problems = Validate();
        if (problems.Count > 0)
            return problems;
        var program = SeccompCompiler.Compile(this, architecture);
        return program.Instructions.Length > BpfOpcodes.MaxInstructions
            ? [$"The policy compiles to {program.Instructions.Length} instructions for {architecture.DisplayName()}, over the kernel's limit of {BpfOpcodes.MaxInstructions}: merge rules or drop conditions."]
            : [];
    }

    /// <summary>Compiles the policy into a filter for <paramref name="architecture"/>.</summary>
    /// <exception cref="SeccompPolicyException">The policy is invalid, or too large for the kernel.</exception>
    public SeccompProgram Compile(SeccompArchitecture architecture)
    {
        var problems = Validate();
        if (problems.Count > 0)
            throw new SeccompPolicyException("The seccomp policy", problems);
        var program = SeccompCompiler.Compile(this, architecture);
        if (program.Instructions.Length > BpfOpcodes.MaxInstructions)
            throw new SeccompPolicyException("The seccomp policy",
                [$"It compiles to {program.Instructions.Length} instructions for {architecture.DisplayName()}, over the kernel's limit of {BpfOpcodes.MaxInstructions}: merge rules or drop conditions."]);
        return program;
    }

    /// <summary>
    /// The compiled filter for <paramref name="architecture"/> (default: this process's) as the kernel takes it:
    /// struct sock_filter[], 8 bytes each.
    /// </summary>
    /// <exception cref="SeccompPolicyException">The policy is invalid or too large.</exception>
    /// <exception cref="PlatformNotSupportedException">No architecture was given and this one is neither x86_64 nor aarch64.</exception>
    public byte[] CompileToBytes(SeccompArchitecture? architecture = null) =>
        Compile(architecture ?? SeccompArchitectures.Native
            ?? throw new PlatformNotSupportedException("Seccomp filters are compiled for x86_64 and aarch64 only.")).ToBytes();

    /// <summary>
    /// What the policy does with <paramref name="data"/> on <paramref name="architecture"/>, evaluated directly
    /// from the rules (the reference the compiled filter is tested against).
    /// </summary>
    public SeccompAction Evaluate(SeccompArchitecture architecture, in SeccompData data)
    {
        if (data.Arch != (uint)architecture)
            return SeccompAction.KillProcess;
        if (architecture == SeccompArchitecture.X86_64 && unchecked((uint)data.Nr) is >= SeccompArchitectures.X32SyscallBit and not SeccompArchitectures.SkippedSyscall)
            return SeccompAction.KillProcess;
        var table = SyscallTable.For(architecture);
        var arguments = data.Arguments.AsSpan();
        foreach (var rule in Rules)
            if (table.TryGetNumber(rule.Syscall, out int number) && number == data.Nr && rule.Matches(arguments))
                return rule.Action;
        return DefaultAction;
    }

    /// <summary>The syscalls the rules name that <paramref name="architecture"/> does not have (skipped when compiling for it).</summary>
    public IReadOnlyList<string> SyscallsMissingOn(SeccompArchitecture architecture)
    {
        var table = SyscallTable.For(architecture);
        return [.. Rules.Select(r => r.Syscall).Where(n => !table.TryGetNumber(n, out _)).Distinct(StringComparer.Ordinal)];
    }

    private static string? ActionProblem(SeccompAction action) =>
        !Enum.IsDefined(action.Kind) ? $"action kind {(int)action.Kind} is unknown"
        : action.Kind == SeccompActionKind.Errno && action.Data > SeccompAction.MaxErrno ? $"errno {action.Data} is above {SeccompAction.MaxErrno}"
        : null;
}
