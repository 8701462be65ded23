using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sandbox.Benchmarks.SideBySide;
using Sandbox.Cgroups;
using Sandbox.Interop;

namespace Sandbox.Benchmarks.Cgroups;

/// <summary>
/// Complete <c>RunAsync(/bin/true)</c> runs whose cgroup is a v2 cgroup on the host's cgroup2 hierarchy (on a hybrid
/// host the one without controllers, chosen with <see cref="CgroupOptions.UnifiedOnHybrid"/>): with no cgroup, born in
/// its cgroup by clone3(CLONE_INTO_CGROUP), and joined by a cgroup.procs write where clone3 is hidden; the default
/// (v1 here) runner for reference. A CPU-time limit is what asks for the cgroup (no controller needed: cpu.stat is
/// always there). The difference from no cgroup is what create + join + destroy cost on v2 in a real launch.
/// </summary>
internal static class UnifiedJoinRuns
{
    private const int WarmupRounds = 30;

    public static async Task<string> RunAsync(CgroupLayout layout, int runs)
    {
        if (layout.Unified is not { Writable: true } unified)
            return "cgroup v2 joins: no writable cgroup2 hierarchy here.\n";
        var options = CgroupOptions.Default with { UnifiedOnHybrid = true, V2Controllers = [], ParentCgroup = "/sandbox-benchmarks" };
        var fileSystem = new CgroupFileSystem();
        SandboxRunner V2Runner(ISyscalls syscalls, Action? prepare) =>
            new(syscalls, LinuxSyscalls.Instance, cgroups: new SandboxCgroups(fileSystem, 0, options), prepareLauncherThread: prepare);

        var spec = SandboxSpec.Command(PeerCommands.Payload).WithoutOwnCgroup();
        var cpuTime = SandboxSpec.Command(PeerCommands.Payload).WithCpuTimeLimit(TimeSpan.FromSeconds(1));
        var clone3 = new TimingSyscalls(LinuxSyscalls.Instance);
        var procs = new TimingSyscalls(LinuxSyscalls.Instance);
        var v1 = new TimingSyscalls(LinuxSyscalls.Instance);
        var clone3Runner = V2Runner(clone3, null);
        var procsRunner = V2Runner(procs, Clone3Filter.HideOnThisThread);
        var v1Runner = new SandboxRunner(v1, LinuxSyscalls.Instance);
        (string Name, TimingSyscalls Syscalls, SandboxRunner Runner, SandboxSpec Spec, CgroupJoinMethod? Expected)[] variants =
        [
            ("no limits (no cgroup)", clone3, clone3Runner, spec, null),
            ($"v2 at {unified.MountPoint}, CPU time 1 s: born in its cgroup (clone3 CLONE_INTO_CGROUP)", clone3, clone3Runner, cpuTime, CgroupJoinMethod.CloneIntoCgroup),
            ($"v2 at {unified.MountPoint}, CPU time 1 s: clone3 hidden (ENOSYS), cgroup.procs written", procs, procsRunner, cpuTime, CgroupJoinMethod.CgroupProcs),
            ($"default runner (cgroup v{(layout.DriverVersion ?? 0)}), CPU time 1 s", v1, v1Runner, cpuTime,
                layout.DriverVersion == 2 ? CgroupJoinMethod.CloneIntoCgroup : CgroupJoinMethod.CgroupProcs),
        ];
        var samples = variants.ToDictionary(v => v.Name, _ => new List<double>(runs));
        var segments = variants.ToDictionary(v => v.Name, _ => new List<double>[] { [], [], [], [] });
        var order = variants.ToArray();
        var random = new Random(20251129);
        var cpuBefore = CpuUsage.Now();
        for (int round = 0; round < WarmupRounds + runs; round++)
        {
            if (round == WarmupRounds)
                cpuBefore = CpuUsage.Now();
            random.Shuffle(order);
            foreach (var (name, syscalls, runner, runSpec, expected) in order)
            {
                syscalls.Reset();
                long t0 = Stopwatch.GetTimestamp();
                var result = (await runner.RunAsync(runSpec).ConfigureAwait(false)).EnsureSuccess();
                long t1 = Stopwatch.GetTimestamp();
                if (result.Isolation.CgroupJoin != expected)
                    throw new InvalidOperationException($"{name}: joined by {result.Isolation.CgroupJoin?.ToString() ?? "nothing"}, expected {expected?.ToString() ?? "nothing"} ({result.Isolation.CgroupJoinFallback}).");
                if (round < WarmupRounds)
                    continue;
                samples[name].Add(Us(t0, t1));
                var parts = segments[name];
                parts[0].Add(Us(t0, syscalls.LaunchStart));
                parts[1].Add(Us(syscalls.LaunchStart, syscalls.LaunchEnd));
                parts[2].Add(Us(syscalls.LaunchEnd, syscalls.FirstReap));
                parts[3].Add(Us(syscalls.FirstReap, t1));
            }
        }
        var cpu = CpuShare.Between(cpuBefore, CpuUsage.Now());
        foreach (var runner in new[] { clone3Runner, procsRunner, v1Runner })
            runner.NetworkNamespaces?.Dispose();
        try
        {
            Directory.Delete(unified.MountPoint + options.ParentCgroup); // rmdir: every sandbox cgroup is gone with its run
        }
        catch (IOException)
        {
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"cgroup v2 joins in complete RunAsync(/bin/true) runs, default isolation, {runs} per variant, interleaved; median / p99 µs and")
            .Append(" the median's difference from no cgroup.\n")
            .Append(CultureInfo.InvariantCulture, $"favordynmods: {CgroupMountOptions.FavorDynamicModifications()}\n")
            .Append(CultureInfo.InvariantCulture, $"CPU during the runs: {cpu.OwnPercent:F0}% this process and its children, {cpu.KernelPercent:F0}% kernel threads and interrupts, {cpu.OtherPercent:F0}% other processes.\n");
        double baseline = LatencySummary.Of(samples[variants[0].Name]).Median;
        foreach (var (name, _, _, _, _) in variants)
        {
            var s = LatencySummary.Of(samples[name]);
            text.Append(CultureInfo.InvariantCulture, $"  {name,-90} {s.Median,7:F0} / {s.P99,7:F0}   {s.Median - baseline,7:+0;-0;0}\n");
        }
        text.Append("Where it goes (medians, µs): before the launch (validate, plan, cgroup create, pipes) | native launch (clone ..\n")
            .Append("payload exec'd, the join included) | to the exit | after (reap, accounting read, destroy, output):\n");
        foreach (var (name, _, _, _, _) in variants)
        {
            var p = segments[name].Select(l => LatencySummary.Of(l).Median).ToArray();
            text.Append(CultureInfo.InvariantCulture, $"  {name,-90} {p[0],6:F0} | {p[1],6:F0} | {p[2],6:F0} | {p[3],6:F0}\n");
        }
        return text.Append('\n').ToString();
    }

    /// <summary>
    /// benchmarks/clone-join: the join alone at the system-call level, as the launcher does it (a CLONE_VM child on its
    /// own stack), in fresh cgroups under a parent of its own on the cgroup2 hierarchy: clone3 CLONE_INTO_CGROUP, clone +
    /// cgroup.procs write, and clone without a cgroup, interleaved.
    /// </summary>
    public static async Task<string> SyscallLevelAsync(CgroupLayout layout, int rounds)
    {
        if (layout.Unified is not { Writable: true } unified)
            return "";
        string program = Path.Combine(AppContext.BaseDirectory, "clone-join");
        if (!File.Exists(program))
            return $"clone-join: {program} is missing; build the benchmarks project (it compiles benchmarks/clone-join).\n";
        string parent = unified.MountPoint + "/sandbox-benchmarks-clone-join";
        Directory.CreateDirectory(parent);
        try
        {
            var start = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(parent);
            start.ArgumentList.Add(rounds.ToString(CultureInfo.InvariantCulture));
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Process.Start({program}) returned null.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = await process.StandardError.ReadToEndAsync().ConfigureAwait(false);
            await process.WaitForExitAsync().ConfigureAwait(false);
            string output = await stdout.ConfigureAwait(false);
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"clone-join exited with {process.ExitCode}: {stderr.Trim()}");
            var cpu = CpuUsage.LoadAverage();
            return $"The join alone (benchmarks/clone-join, a CLONE_VM child as the launcher makes it, fresh cgroups under {parent}; load average {cpu}):\n"
                + output + "\n";
        }
        finally
        {
            Directory.Delete(parent); // rmdir: clone-join removes every cgroup it made
        }
    }

    private static double Us(long from, long to) => (to - from) * 1_000_000.0 / Stopwatch.Frequency;
}
