using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Sandbox.Interop;

namespace Sandbox.Tests.Launch;

/// <summary>
/// What src/native/launcher/sandbox_plan.h declares (its structs, enum constants and #defines, read from
/// the file) and what a C compiler says about it: a program including the header prints the size, offset
/// and signedness of every field and the value of every constant, together with the system constants the
/// C# code copies (clone flags, rlimits, errno values, wait status macros).
/// </summary>
public sealed partial class NativeHeader : IDisposable
{
    /// <summary>The wait(2) status words whose decoding is compared with the C macros.</summary>
    public static readonly int[] WaitStatusWords = [0, 1 << 8, 42 << 8, 255 << 8, 9, 15, 11 | 0x80, 6 | 0x80];

    private readonly DirectoryInfo _work;

    public NativeHeader()
    {
        string header = Path.Combine(RepositoryPaths.LauncherSources, "sandbox_plan.h");
        string text = File.ReadAllText(header);
        Structs = ParseStructs(text);
        EnumConstants = [.. EnumBody().Matches(text).SelectMany(e => EnumConstant().Matches(e.Groups[2].Value).Select(c => c.Groups[1].Value))];
        Defines = [.. Define().Matches(text).Select(m => m.Groups[1].Value)];
        ErrnoNumbers = Enumerable.Range(1, 200).Where(n => !ErrnoNames.Of(n).StartsWith("errno", StringComparison.Ordinal)).ToArray();

        _work = Directory.CreateTempSubdirectory("sandbox-layout-");
        string source = Path.Combine(_work.FullName, "layout.c");
        string program = Path.Combine(_work.FullName, "layout");
        File.WriteAllText(source, Program());
        var (compiled, compilerOutput) = Run("cc", ["-std=gnu11", "-Wall", "-I", RepositoryPaths.LauncherSources, "-o", program, source]);
        if (!compiled)
            throw new InvalidOperationException($"The layout program did not compile:\n{compilerOutput}\n{Program()}");
        var (ran, output) = Run(program, []);
        if (!ran)
            throw new InvalidOperationException($"The layout program failed:\n{output}");
        Values = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .ToDictionary(p => p[0] + " " + p[1], p => string.Join(' ', p[2..]), StringComparer.Ordinal);
    }

    /// <summary>Each struct of the header with its fields in order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<CField>> Structs { get; }

    /// <summary>The names of every enum constant of the header.</summary>
    public IReadOnlyList<string> EnumConstants { get; }

    /// <summary>The names of every value #define of the header.</summary>
    public IReadOnlyList<string> Defines { get; }

    /// <summary>The errno values <see cref="ErrnoNames"/> has a name for.</summary>
    public IReadOnlyList<int> ErrnoNumbers { get; }

    /// <summary>What the C program printed, by "kind name": "sizeof sbx_plan", "offsetof sbx_plan.magic", "const SBX_PLAN_MAGIC"...</summary>
    public IReadOnlyDictionary<string, string> Values { get; }

    public long Number(string kind, string name) =>
        Values.TryGetValue(kind + " " + name, out var value)
            ? long.Parse(value, CultureInfo.InvariantCulture)
            : throw new KeyNotFoundException($"The C program printed no '{kind} {name}'.");

    public void Dispose() => _work.Delete(recursive: true);

    private string Program()
    {
        var c = new StringBuilder();
        c.AppendLine("#define _GNU_SOURCE");
        c.AppendLine("#define _GNU_SOURCE");
        c.AppendLine("#include <errno.h>");
        c.AppendLine("#include <fcntl.h>");
        c.AppendLine("#include <linux/mount.h>");
        c.AppendLine("#include <sys/syscall.h>");
        c.AppendLine("#include <sched.h>");
        c.AppendLine("#include <stddef.h>");
        c.AppendLine("#include <stdio.h>");
        c.AppendLine("#include <sys/resource.h>");
        c.AppendLine("#include <sys/wait.h>");
        c.AppendLine("#include \"sandbox_plan.h\"");
        c.AppendLine("#define P(kind, name, value) printf(\"%s %s %lld\\n\", kind, name, (long long)(value))");
        c.AppendLine("int main(void)");
        c.AppendLine("{");
        foreach (var (name, fields) in Structs)
        {
            c.AppendLine(CultureInfo.InvariantCulture, $"    P(\"sizeof\", \"{name}\", sizeof(struct {name}));");
            foreach (var f in fields)
            {
                string member = $"((struct {name} *)0)->{f.Name}";
                c.AppendLine(CultureInfo.InvariantCulture, $"    P(\"offsetof\", \"{name}.{f.Name}\", offsetof(struct {name}, {f.Name}));");
                c.AppendLine(CultureInfo.InvariantCulture, $"    P(\"sizeof\", \"{name}.{f.Name}\", sizeof({member}));");
                if (f.IsScalar)
                    c.AppendLine(CultureInfo.InvariantCulture, $"    P(\"signed\", \"{name}.{f.Name}\", (__typeof__({member}))-1 < 0);");
            }
        }
        foreach (var constant in EnumConstants.Concat(Defines).Concat(SystemConstants))
            c.AppendLine(CultureInfo.InvariantCulture, $"    P(\"const\", \"{constant}\", {constant});");
        foreach (int errno in ErrnoNumbers)
            c.AppendLine(CultureInfo.InvariantCulture, $"    P(\"errno\", \"{ErrnoNames.Of(errno)}\", {ErrnoNames.Of(errno)});");
        foreach (int status in WaitStatusWords)
            c.AppendLine(CultureInfo.InvariantCulture,
                $"    printf(\"wait {status} %d %d %d %d %d\\n\", WIFEXITED({status}) != 0, WEXITSTATUS({status}), WIFSIGNALED({status}) != 0, WTERMSIG({status}), WCOREDUMP({status}) != 0);");
        c.AppendLine("    return 0;");
        c.AppendLine("}");
        return c.ToString();
    }

    /// <summary>The system constants the C# code copies.</summary>
    public static readonly string[] SystemConstants =
        ["CLONE_NEWNS", "CLONE_NEWCGROUP", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWUSER", "CLONE_NEWPID", "CLONE_NEWNET", "RLIMIT_CORE", "RLIMIT_NOFILE",
         "SYS_open_tree", "SYS_mount_setattr", "OPEN_TREE_CLONE", "OPEN_TREE_CLOEXEC", "AT_EMPTY_PATH", "AT_SYMLINK_NOFOLLOW", "MOUNT_ATTR_IDMAP", "MOUNT_ATTR_RDONLY"];

    private static Dictionary<string, IReadOnlyList<CField>> ParseStructs(string header)
    {
        var structs = new Dictionary<string, IReadOnlyList<CField>>(StringComparer.Ordinal);
        foreach (Match s in StructBody().Matches(header))
        {
            string body = Comment().Replace(s.Groups[2].Value, "");
            structs[s.Groups[1].Value] = [.. body.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(declaration => Field().Match(declaration) is { Success: true } m
                    ? new CField(m.Groups[3].Value, m.Groups[2].Value, IsScalar: !m.Groups[1].Success && !m.Groups[4].Success)
                    : throw new FormatException($"Cannot read the field declaration '{declaration}' of struct {s.Groups[1].Value}."))];
        }
        return structs;
    }

    private static (bool Ok, string Output) Run(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode == 0, stdout + stderr.Result);
    }

    [GeneratedRegex(@"struct\s+(\w+)\s*\{(.*?)\};", RegexOptions.Singleline)]
    private static partial Regex StructBody();

    [GeneratedRegex(@"enum\s+(\w+)\s*\{(.*?)\};", RegexOptions.Singleline)]
    private static partial Regex EnumBody();

    [GeneratedRegex(@"\b(SBX_\w+)\s*=")]
    private static partial Regex EnumConstant();

    [GeneratedRegex(@"^#define\s+(SBX_\w+)\s+(?:0x)?[0-9a-fA-F]+u?\b", RegexOptions.Multiline)]
    private static partial Regex Define();

    [GeneratedRegex(@"/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"^(struct\s+)?(\w+)\s+(\w+)\s*(\[[^\]]+\])?$")]
    private static partial Regex Field();
}
