using System.Collections.Frozen;

namespace Sandbox.Seccomp.Tables;

/// <summary>
/// The syscalls of one architecture, name to number and back, generated from the kernel's UAPI headers by
/// generate-syscall-tables.sh (the generated part is SyscallTable.X86_64.cs / SyscallTable.Aarch64.cs).
/// </summary>
public sealed partial class SyscallTable
{
    private readonly FrozenDictionary<string, int> _numbers;
    private readonly FrozenDictionary<int, string> _names;

    private SyscallTable(SeccompArchitecture architecture, string source, (string Name, int Number)[] syscalls)
    {
        Architecture = architecture;
        Source = source;
        _numbers = syscalls.ToFrozenDictionary(s => s.Name, s => s.Number, StringComparer.Ordinal);
        _names = syscalls.ToFrozenDictionary(s => s.Number, s => s.Name);
        MaxNumber = syscalls.Max(s => s.Number);
    }

    /// <summary>The architecture.</summary>
    public SeccompArchitecture Architecture { get; }

    /// <summary>Where the table was generated from (header and package version).</summary>
    public string Source { get; }

    /// <summary>The highest syscall number the table knows.</summary>
    public int MaxNumber { get; }

    /// <summary>Every syscall name.</summary>
    public IEnumerable<string> Names => _numbers.Keys;

    /// <summary>How many syscalls the table has.</summary>
    public int Count => _numbers.Count;

    /// <summary>The table of <paramref name="architecture"/>.</summary>
    public static SyscallTable For(SeccompArchitecture architecture) => architecture switch
    {
        SeccompArchitecture.X86_64 => X86_64,
        SeccompArchitecture.Aarch64 => Aarch64,
        _ => throw new ArgumentOutOfRangeException(nameof(architecture), architecture, "Seccomp filters are compiled for x86_64 and aarch64 only."),
    };

    /// <summary>The number of <paramref name="name"/> on this architecture.</summary>
    public bool TryGetNumber(string name, out int number) => _numbers.TryGetValue(name, out number);

    /// <summary>The name of syscall <paramref name="number"/>, or null.</summary>
    public string? NameOf(int number) => _names.TryGetValue(number, out var name) ? name : null;

    /// <summary>Whether any supported architecture has a syscall called <paramref name="name"/>.</summary>
    public static bool IsKnownAnywhere(string name) => X86_64._numbers.ContainsKey(name) || Aarch64._numbers.ContainsKey(name);

    /// <summary>The known name closest to <paramref name="name"/> (for "did you mean"), or null when none is close.</summary>
    public static string? Suggest(string name)
    {
        string? best = null;
        int bestDistance = Math.Max(2, name.Length / 3) + 1;
        foreach (var candidate in X86_64.Names.Concat(Aarch64.Names))
        {
            int distance = EditDistance(name, candidate, bestDistance);
            if (distance < bestDistance)
                (best, bestDistance) = (candidate, distance);
        }
        return best;
    }

    /// <summary>Edits (insert, delete, substitute, swap two neighbours) from <paramref name="a"/> to <paramref name="b"/>, or <paramref name="cap"/> when that many or more.</summary>
    private static int EditDistance(string a, string b, int cap)
    {
        if (Math.Abs(a.Length - b.Length) >= cap)
            return cap;
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return Math.Min(d[a.Length, b.Length], cap);
    }
}
