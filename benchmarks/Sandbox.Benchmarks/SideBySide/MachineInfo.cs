using System.Diagnostics;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Sandbox.Benchmarks.SideBySide;

/// <summary>What the figures were measured on.</summary>
internal static class MachineInfo
{
    public static IReadOnlyList<(string Name, string Value)> Describe() =>
    [
        ("date (UTC)", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)),
        ("kernel", ReadFirstLine("/proc/sys/kernel/osrelease") ?? RuntimeInformation.OSDescription),
        ("OS", OsRelease() ?? "?"),
        ("CPU", CpuModel() ?? RuntimeInformation.ProcessArchitecture.ToString()),
        ("cores (online)", Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("memory", MemTotal() ?? "?"),
        ("virtualization", Virtualization()),
        (".NET", $"{RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier}), " +
            $"{(GCSettings.IsServerGC ? "server" : "workstation")} GC, concurrent {(GCSettings.LatencyMode != GCLatencyMode.Batch ? "on" : "off")}"),
        ("host euid", Environment.IsPrivilegedProcess ? "0 (root)" : "unprivileged"),
        ("bwrap", Version(PeerCommands.BwrapExecutable, "--version") ?? "not installed"),
        ("unshare", Version(PeerCommands.UnshareExecutable, "--version") ?? "not installed"),
        ("runc", Version(PeerCommands.RuncExecutable, "--version") ?? "not installed"),
        ("crun", Version(PeerCommands.CrunExecutable, "--version") ?? "not installed"),
        ("cgroups", global::Sandbox.Cgroups.CgroupLayoutDetector.Detect(global::Sandbox.Cgroups.CgroupFileSystem.Instance, Environment.IsPrivilegedProcess ? 0u : 1u).Kind.ToString() + "; favordynmods " + global::Sandbox.Benchmarks.Cgroups.CgroupMountOptions.FavorDynamicModifications()),
        ("commit", Version("git", "rev-parse", "--short", "HEAD") is { } commit
            ? commit + (Version("git", "status", "--porcelain", "--", "src") is { Length: > 0 } ? " (src has uncommitted changes)" : "")
            : "?"),
    ];

    private static string? ReadFirstLine(string path)
    {
        try
        {
            return File.ReadLines(path).FirstOrDefault()?.Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string? OsRelease()
    {
        if (!File.Exists("/etc/os-release")) return null;
        string? line = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
        return line?["PRETTY_NAME=".Length..].Trim('"');
    }

    private static string? CpuModel()
    {
        if (!File.Exists("/proc/cpuinfo")) return null;
        string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line?[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }

    private static string? MemTotal()
    {
        if (!File.Exists("/proc/meminfo")) return null;
        string? line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        if (line is null) return null;
        long kib = long.Parse(line["MemTotal:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return $"{kib / 1024.0 / 1024.0:F1} GiB";
    }

    private static string Virtualization()
    {
        string? hypervisor = File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").Any(l => l.StartsWith("flags", StringComparison.Ordinal) && l.Contains(" hypervisor", StringComparison.Ordinal))
            ? "guest (hypervisor flag set)"
            : "none detected";
        string? vendor = ReadFirstLine("/sys/class/dmi/id/sys_vendor");
        return vendor is null ? hypervisor : $"{hypervisor}, {vendor}";
    }

    /// <summary>The first line a tool prints, or null if it cannot be run.</summary>
    private static string? Version(string? file, params string[] arguments)
    {
        if (file is null) return null;
        try
        {
            var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in arguments) info.ArgumentList.Add(a);
            using var process = Process.Start(info);
            if (process is null) return null;
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output.Split('\n')[0].Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
