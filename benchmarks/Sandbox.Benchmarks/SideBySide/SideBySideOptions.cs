using System.Globalization;

namespace Sandbox.Benchmarks.SideBySide;

/// <summary>The side-by-side mode's command line.</summary>
/// <param name="Runs">Measured runs per contender and heap size.</param>
/// <param name="Warmup">Unmeasured rounds before each heap size's measurement.</param>
/// <param name="HeapGiB">The live managed heap of the second pass, in GiB; 0 skips that pass.</param>
/// <param name="OutputPath">Where the Markdown report goes (a CSV of every sample goes next to it).</param>
/// <param name="Seed">Seeds the shuffled order of the contenders in each round.</param>
/// <param name="WaitQuietSeconds">How long to wait, before each pass, for the machine's other processes to drop under 10% of the CPU.</param>
internal sealed record SideBySideOptions(int Runs, int Warmup, double HeapGiB, string OutputPath, int Seed, int WaitQuietSeconds)
{
    public const string Usage =
        "usage: side-by-side [--runs N (400)] [--warmup N (50)] [--heap-gib G (4; 0 skips the big-heap pass)] [--out FILE] [--seed N] [--wait-quiet SECONDS (0)]";

    public static bool TryParse(ReadOnlySpan<string> args, out SideBySideOptions options, out string? problem)
    {
        options = new SideBySideOptions(400, 50, 4, DefaultOutputPath(), 20251126, 0);
        problem = null;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (i + 1 >= args.Length)
            {
                problem = $"'{name}' needs a value.";
                return false;
            }
            string value = args[++i];
            switch (name)
            {
                case "--runs" when int.TryParse(value, CultureInfo.InvariantCulture, out int runs) && runs >= 10:
                    options = options with { Runs = runs };
                    break;
                case "--warmup" when int.TryParse(value, CultureInfo.InvariantCulture, out int warmup) && warmup >= 0:
                    options = options with { Warmup = warmup };
                    break;
                case "--heap-gib" when double.TryParse(value, CultureInfo.InvariantCulture, out double gib) && gib >= 0 && gib <= 64:
                    options = options with { HeapGiB = gib };
                    break;
                case "--out":
                    options = options with { OutputPath = Path.GetFullPath(value) };
                    break;
                case "--seed" when int.TryParse(value, CultureInfo.InvariantCulture, out int seed):
                    options = options with { Seed = seed };
                    break;
                case "--wait-quiet" when int.TryParse(value, CultureInfo.InvariantCulture, out int wait) && wait >= 0:
                    options = options with { WaitQuietSeconds = wait };
                    break;
                default:
                    problem = $"'{name} {value}' is not understood (runs ≥ 10, warmup ≥ 0, heap-gib 0..64).";
                    return false;
            }
        }
        return true;
    }

    /// <summary>benchmarks/results/side-by-side.md of the repository this program was built in, else of the current directory.</summary>
    private static string DefaultOutputPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sandbox.slnx")) || File.Exists(Path.Combine(dir.FullName, "Sandbox.sln")))
                return Path.Combine(dir.FullName, "benchmarks", "results", "side-by-side.md");
        }
        return Path.GetFullPath(Path.Combine("benchmarks", "results", "side-by-side.md"));
    }
}
