using Sandbox.Benchmarks.SideBySide;

namespace Sandbox.Benchmarks.Images;

/// <summary>The machine in one line, for the image reports.</summary>
internal static class BenchMachine
{
    private static readonly string[] Shown = ["date (UTC)", "kernel", "OS", "CPU", "cores (online)", "memory", ".NET", "host euid", "commit"];

    public static string Describe() =>
        string.Join("; ", MachineInfo.Describe().Where(e => Shown.Contains(e.Name)).Select(e => $"{e.Name} {e.Value}"));
}
