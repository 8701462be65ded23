using System.Text.Json;
using Sandbox.Seccomp;
using Sandbox.Seccomp.Bpf;
using Sandbox.Seccomp.Profiles;
using Sandbox.Seccomp.Tables;

namespace Sandbox.Tests.Seccomp;

/// <summary>
/// The Moby default profile imported by us and compiled by us agrees with the same file set up through
/// libseccomp the way Docker does (each applicable entry, each name libseccomp resolves, one rule per entry
/// or, for two conditions on one argument, one per condition), on every syscall number 0..450 with
/// arguments that hit its conditions and miss them.
/// </summary>
public class MobyProfileDifferentialTests
{
    private static readonly SeccompArchitecture Native = SeccompArchitectures.Native ?? throw new PlatformNotSupportedException("x86_64 or aarch64 only");

    private static readonly ulong[] InterestingValues =
    [
        0, 1, 2, 8, 37, 38, 39, 40, 41, 0x10000, 0x20000, 0x20008, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF,
        0x100000000, 0x100000026, 0x7E020000, 0x10000000, 0x00020000, 0x01000000 | 0x11, ulong.MaxValue,
    ];

    [Fact]
    public void Our_import_of_the_Moby_default_profile_agrees_with_libseccomp_on_every_syscall_0_to_450()
    {
        string path = SeccompFixtures.MobyDefaultProfile;
        var imported = DockerProfileImporter.ImportFile(path, new DockerProfileOptions { Architecture = Native });
        var ours = imported.Policy.Compile(Native);

        var (defaultAction, rules, names) = DockerSetup(File.ReadAllText(path));
        var theirs = Libseccomp.Compile(defaultAction, rules);
        Assert.Empty(BpfProgramValidator.Problems(theirs.AsSpan()));

        // Names one side knows and the other does not (our table is from newer headers than libseccomp 2.5.4's list):
        // their numbers are left out, and each must be such a case, never the same name with two numbers.
        var table = SyscallTable.For(Native);
        var excluded = new Dictionary<int, string>();
        foreach (var name in names)
        {
            bool weKnow = table.TryGetNumber(name, out int ourNumber);
            int theirNumber = Libseccomp.ResolveName(name);
            if (weKnow && theirNumber >= 0)
                Assert.True(ourNumber == theirNumber, $"'{name}' is {ourNumber} in our table but {theirNumber} in libseccomp's.");
            else if (weKnow)
                excluded[ourNumber] = name;
            else if (theirNumber >= 0)
                excluded[theirNumber] = name;
        }
        Assert.True(excluded.Count < 20, $"Too many names only one side knows: {string.Join(", ", excluded.Values)}.");

        int compared = 0;
        var disagreements = new List<string>();
        for (int nr = 0; nr <= 450; nr++)
        {
            if (excluded.ContainsKey(nr))
                continue;
            foreach (var call in Calls(nr))
            {
                uint expected = BpfInterpreter.Run(theirs.AsSpan(), call);
                uint actual = BpfInterpreter.Run(ours.Instructions.AsSpan(), call);
                compared++;
                if (expected != actual)
                    disagreements.Add($"{table.NameOf(nr) ?? "?"} {call}: libseccomp {SeccompAction.FromReturnValue(expected)}, ours {SeccompAction.FromReturnValue(actual)}");
            }
        }
        Assert.True(disagreements.Count == 0, $"{disagreements.Count} of {compared} calls disagree:\n" + string.Join("\n", disagreements.Take(40)));
        Assert.True(compared > 400 * InterestingValues.Length);
    }

    [Fact]
    public void The_Moby_default_profile_imported_for_x86_64_allows_and_refuses_what_Docker_does()
    {
        var policy = DockerProfileImporter.ImportFile(SeccompFixtures.MobyDefaultProfile,
            new DockerProfileOptions { Architecture = SeccompArchitecture.X86_64 }).Policy;
        var table = SyscallTable.X86_64;
        SeccompAction Call(string name, params ulong[] args)
        {
            Assert.True(table.TryGetNumber(name, out int nr), name);
            return policy.Evaluate(SeccompArchitecture.X86_64, new SeccompData(nr, SeccompArchitecture.X86_64, args));
        }

        Assert.Equal(SeccompAction.Allow, Call("read"));
        Assert.Equal(SeccompAction.Allow, Call("arch_prctl"));
        Assert.Equal(SeccompAction.Errno(LinuxErrno.EPERM), Call("mount"));
        Assert.Equal(SeccompAction.Errno(LinuxErrno.EPERM), Call("unshare"));
        Assert.Equal(SeccompAction.Errno(LinuxErrno.ENOSYS), Call("clone3"));
        Assert.Equal(SeccompAction.Allow, Call("clone", 0x11));
        Assert.Equal(SeccompAction.Errno(LinuxErrno.EPERM), Call("clone", 0x10000000 | 0x11));
        Assert.Equal(SeccompAction.Allow, Call("socket", 1));
        Assert.Equal(SeccompAction.Errno(LinuxErrno.EPERM), Call("socket", 38));
        Assert.Equal(SeccompAction.Allow, Call("socket", 39));
        Assert.Equal(SeccompAction.Errno(LinuxErrno.EPERM), Call("socket", 40));
        Assert.Equal(SeccompAction.Allow, Call("personality", 0xFFFFFFFF));
        Assert.Equal(SeccompAction.Errno(LinuxErrno.EPERM), Call("personality", 0x0040000));
        Assert.Equal(SeccompAction.Allow, Call("ptrace"));
    }

    /// <summary>The calls tried for syscall <paramref name="nr"/>: no arguments, then each interesting value in arg0 and in arg1.</summary>
    private static IEnumerable<SeccompData> Calls(int nr)
    {
        yield return new SeccompData(nr, Native);
        foreach (ulong value in InterestingValues)
        {
            yield return new SeccompData(nr, Native, value);
            yield return new SeccompData(nr, Native, 0, value);
        }
    }

    /// <summary>
    /// The profile set up for libseccomp as Docker does for this architecture with no capabilities: the default
    /// action (errno EPERM unless defaultErrnoRet), and per applicable entry and name libseccomp resolves, the
    /// rules. Written from the Docker/runc behaviour independently of <see cref="DockerProfileImporter"/>.
    /// </summary>
    private static (uint Default, List<(int, uint, Libseccomp.ArgumentComparison[])> Rules, HashSet<string> Names) DockerSetup(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        uint Action(string name, JsonElement? errno) => name switch
        {
            "SCMP_ACT_ALLOW" => SeccompAction.RetAllow,
            "SCMP_ACT_ERRNO" => SeccompAction.RetErrno | (errno is { } e ? e.GetUInt32() : 1u),
            "SCMP_ACT_KILL_PROCESS" => SeccompAction.RetKillProcess,
            "SCMP_ACT_KILL" or "SCMP_ACT_KILL_THREAD" => SeccompAction.RetKillThread,
            "SCMP_ACT_LOG" => SeccompAction.RetLog,
            "SCMP_ACT_TRAP" => SeccompAction.RetTrap,
            _ => throw new InvalidOperationException($"The Moby profile uses {name}, which this test does not set up."),
        };
        uint defaultAction = Action(root.GetProperty("defaultAction").GetString()!,
            root.TryGetProperty("defaultErrnoRet", out var de) ? de : null);
        string arch = Native == SeccompArchitecture.X86_64 ? "amd64" : "arm64";

        var rules = new List<(int, uint, Libseccomp.ArgumentComparison[])>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in root.GetProperty("syscalls").EnumerateArray())
        {
            if (entry.TryGetProperty("includes", out var inc))
            {
                if (inc.TryGetProperty("caps", out var caps) && caps.GetArrayLength() > 0) continue; // no capabilities held
                if (inc.TryGetProperty("arches", out var arches) && !arches.EnumerateArray().Any(a => a.GetString() == arch)) continue;
            }
            if (entry.TryGetProperty("excludes", out var exc) && exc.TryGetProperty("arches", out var exArches) &&
                exArches.EnumerateArray().Any(a => a.GetString() == arch)) continue;
            uint action = Action(entry.GetProperty("action").GetString()!, entry.TryGetProperty("errnoRet", out var er) ? er : null);
            var comparisons = entry.TryGetProperty("args", out var args) && args.ValueKind == JsonValueKind.Array
                ? args.EnumerateArray().Select(a =>
                {
                    int op = a.GetProperty("op").GetString() switch
                    {
                        "SCMP_CMP_NE" => 1, "SCMP_CMP_LT" => 2, "SCMP_CMP_LE" => 3, "SCMP_CMP_EQ" => 4,
                        "SCMP_CMP_GE" => 5, "SCMP_CMP_GT" => 6, "SCMP_CMP_MASKED_EQ" => 7, var o => throw new InvalidOperationException(o),
                    };
                    return new Libseccomp.ArgumentComparison
                    {
                        Argument = a.GetProperty("index").GetUInt32(), Operator = op, DatumA = a.GetProperty("value").GetUInt64(),
                        DatumB = a.TryGetProperty("valueTwo", out var v2) ? v2.GetUInt64() : 0,
                    };
                }).ToArray()
                : [];
            bool split = comparisons.GroupBy(c => c.Argument).Any(g => g.Count() > 1);
            foreach (var nameElement in entry.GetProperty("names").EnumerateArray())
            {
                string name = nameElement.GetString()!;
                names.Add(name);
                int nr = Libseccomp.ResolveName(name);
                if (nr < 0) continue; // unknown to libseccomp, or a pseudo-syscall of another architecture: Docker skips it
                if (split)
                    rules.AddRange(comparisons.Select(c => (nr, action, new[] { c })));
                else
                    rules.Add((nr, action, comparisons));
            }
        }
        return (defaultAction, rules, names);
    }
}
