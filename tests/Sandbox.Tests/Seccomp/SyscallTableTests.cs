using System.Diagnostics;
using System.Globalization;
using Sandbox.Seccomp;
using Sandbox.Seccomp.Tables;

namespace Sandbox.Tests.Seccomp;

/// <summary>
/// The committed syscall tables against the kernel headers on this machine, read the way
/// generate-syscall-tables.sh reads them (the C preprocessor resolves every __NR_ macro), and against
/// numbers every Linux user knows.
/// </summary>
public class SyscallTableTests
{
    public static TheoryData<SeccompArchitecture> Architectures => [.. SeccompArchitectures.All];

    [Theory]
    [MemberData(nameof(Architectures))]
    public void The_table_is_exactly_what_the_headers_on_this_machine_define(SeccompArchitecture architecture)
    {
        var headers = FromHeaders(architecture);
        var table = SyscallTable.For(architecture);
        var missing = headers.Where(h => !table.TryGetNumber(h.Key, out int n) || n != h.Value).Select(h => $"{h.Key}={h.Value}").ToList();
        var extra = table.Names.Where(n => !headers.ContainsKey(n)).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"The {architecture.DisplayName()} table ({table.Source}) differs from the headers: missing or different {string.Join(", ", missing)}; not in the headers {string.Join(", ", extra)}. " +
            "Regenerate it with src/Sandbox/Seccomp/Tables/generate-syscall-tables.sh.");
        Assert.Equal(headers.Count, table.Count);
    }

    [Theory]
    [InlineData(SeccompArchitecture.X86_64, "read", 0)]
    [InlineData(SeccompArchitecture.X86_64, "write", 1)]
    [InlineData(SeccompArchitecture.X86_64, "open", 2)]
    [InlineData(SeccompArchitecture.X86_64, "clone", 56)]
    [InlineData(SeccompArchitecture.X86_64, "execve", 59)]
    [InlineData(SeccompArchitecture.X86_64, "clone3", 435)]
    [InlineData(SeccompArchitecture.Aarch64, "read", 63)]
    [InlineData(SeccompArchitecture.Aarch64, "openat", 56)]
    [InlineData(SeccompArchitecture.Aarch64, "fcntl", 25)]
    [InlineData(SeccompArchitecture.Aarch64, "mmap", 222)]
    [InlineData(SeccompArchitecture.Aarch64, "clone", 220)]
    [InlineData(SeccompArchitecture.Aarch64, "clone3", 435)]
    public void Well_known_syscalls_have_their_numbers(SeccompArchitecture architecture, string name, int number)
    {
        Assert.True(SyscallTable.For(architecture).TryGetNumber(name, out int actual));
        Assert.Equal(number, actual);
        Assert.Equal(name, SyscallTable.For(architecture).NameOf(number));
    }

    [Fact]
    public void Syscalls_of_the_legacy_ABI_exist_on_x86_64_only()
    {
        foreach (var name in new[] { "open", "fork", "stat", "arch_prctl", "poll" })
        {
            Assert.True(SyscallTable.X86_64.TryGetNumber(name, out _), name);
            Assert.False(SyscallTable.Aarch64.TryGetNumber(name, out _), name);
        }
    }

    /// <summary>name → number, as the C preprocessor resolves the header's __NR_ macros.</summary>
    private static Dictionary<string, int> FromHeaders(SeccompArchitecture architecture)
    {
        var (include, header, flags) = architecture == SeccompArchitecture.X86_64
            ? ("/usr/include/x86_64-linux-gnu", "asm/unistd_64.h", Array.Empty<string>())
            : ("/usr/aarch64-linux-gnu/include", "asm/unistd.h", new[] { "-nostdinc", "-D__aarch64__" });
        Assert.True(File.Exists(Path.Combine(include, header)),
            $"{Path.Combine(include, header)} is missing: install {(architecture == SeccompArchitecture.X86_64 ? "linux-libc-dev" : "linux-libc-dev-arm64-cross")} (test.sh does).");
        string macros = Cpp([.. flags, "-dM", "-I", include, "-"], $"#include <{header}>\n");
        var names = macros.Split('\n').Select(l => l.Split(' ')).Where(p => p.Length >= 3 && p[0] == "#define" && p[1].StartsWith("__NR_", StringComparison.Ordinal))
            .Select(p => p[1]["__NR_".Length..]).Where(n => n is not ("syscalls" or "arch_specific_syscall")).Distinct().ToList();
        string resolved = Cpp([.. flags, "-P", "-I", include, "-"],
            $"#include <{header}>\n" + string.Concat(names.Select(n => $"SYSCALL {n} __NR_{n}\n")));
        return resolved.Split('\n').Where(l => l.StartsWith("SYSCALL ", StringComparison.Ordinal))
            .Select(l => l.Split(' ', 3)).ToDictionary(p => p[1], p => Evaluate(p[2]), StringComparer.Ordinal);
    }

    /// <summary>A resolved macro: a number or a parenthesised sum of numbers.</summary>
    private static int Evaluate(string expression) =>
        expression.Replace("(", "", StringComparison.Ordinal).Replace(")", "", StringComparison.Ordinal)
            .Split('+', StringSplitOptions.TrimEntries).Sum(t => int.Parse(t, CultureInfo.InvariantCulture));

    private static string Cpp(string[] args, string input)
    {
        var start = new ProcessStartInfo("cpp") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"cpp failed: {error.Result}");
        return output;
    }
}
