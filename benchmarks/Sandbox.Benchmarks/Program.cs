using BenchmarkDotNet.Running;
using Sandbox.Benchmarks.SideBySide;

namespace Sandbox.Benchmarks;

/// <summary>
/// The modes, by the first argument:
/// <list type="bullet">
/// <item><c>side-by-side [--runs N] [--warmup N] [--heap-gib G] [--wait-quiet S] [--out FILE]</c>: Sandbox (without and
/// with limits) against Process.Start, unshare, bwrap, runc and crun, interleaved in this one process, with a minimal heap, a big live heap, and a
/// minimal heap again; writes benchmarks/results/side-by-side.md and .csv.</item>
/// <item><c>launch-breakdown [--runs N] [--no-variants] [--limits]</c>: where the time of one Sandbox run goes, and what each namespace costs.</item>
/// <item><c>cgroup-cost [--runs N] [--out FILE]</c>: what a sandbox cgroup costs (create, join, destroy, accounting), per file operation, and what each limit adds to a complete run (root only).</item>
/// <item><c>seccomp-cost [--rounds N] [--calls N] [--reps N] [--out FILE]</c>: what a loaded seccomp filter costs a system call, the Default and the Moby profile compiled by us and by libseccomp, against no filter; writes benchmarks/results/seccomp-cost.md.</item>
/// <item><c>spawn-probe</c>: one Process.Start and one Sandbox run, to trace how each spawns.</item>
/// <item><c>overlay-cost [--runs N] [--warmup N] [--out FILE]</c>: what an image root (overlay of cached layers) adds to a cold run, against the host root.</item>
/// <item><c>pull-vs-skopeo [--rounds N] [--no-cli] [--cli PATH] [--out FILE]</c>: pulling a five-layer image from docker-registry on loopback, Sandbox (library and CLI) against <c>skopeo copy</c>.</item>
/// <item><c>layers [--runs N]</c>: <c>tar -xzf</c> against the layer applier on the same gzip layer, interleaved.</item>
/// <item>anything else: the BenchmarkDotNet suite (e.g. <c>--filter '*'</c>, <c>--list flat</c>).</item>
/// </list>
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "side-by-side")
        {
            if (!SideBySideOptions.TryParse(args.AsSpan(1), out var options, out string? problem))
            {
                await Console.Error.WriteLineAsync($"side-by-side: {problem}\n{SideBySideOptions.Usage}").ConfigureAwait(false);
                return 2;
            }
            return await SideBySideCommand.RunAsync(options).ConfigureAwait(false);
        }
        if (args.Length > 0 && args[0] == "spawn-probe")
        {
            // One run of each kind, for `strace -f -e trace=fork,vfork,clone,clone3` to show how each is spawned.
            PeerCommands.RunToCompletion(PeerCommands.Payload, []);
            (await SandboxSpec.Command(PeerCommands.Payload).RunAsync().ConfigureAwait(false)).EnsureSuccess();
            return 0;
        }
        if (args.Length > 0 && args[0] == "cgroup-cost")
            return await Cgroups.CgroupCostCommand.RunAsync(args.AsSpan(1).ToArray()).ConfigureAwait(false);
        if (args.Length > 0 && args[0] == "layers")
            return LayerSideBySide.Run(args.AsSpan(1));
        if (args.Length > 0 && args[0] == "seccomp-cost")
            return await Seccomp.SeccompCostCommand.RunAsync(args.AsSpan(1).ToArray()).ConfigureAwait(false);
        if (args.Length > 0 && args[0] == "pull-vs-skopeo")
            return await Images.PullVsSkopeoCommand.RunAsync(args.AsSpan(1).ToArray()).ConfigureAwait(false);
        if (args.Length > 0 && args[0] == "pull-breakdown")
            return await Images.PullBreakdownCommand.RunAsync(args.AsSpan(1).ToArray()).ConfigureAwait(false);
        if (args.Length > 0 && args[0] == "overlay-cost")
            return await Images.OverlayCostCommand.RunAsync(args.AsSpan(1).ToArray()).ConfigureAwait(false);
        if (args.Length > 0 && args[0] == "launch-breakdown")
            return await LaunchBreakdown.RunAsync(args.AsSpan(1).ToArray()).ConfigureAwait(false);

        // The benchmark processes are this one's children: what the machine spent on anything else during
        // the run is reported, as the side-by-side mode does, so a noisy run can be told from a clean one.
        var cpuBefore = CpuUsage.Now();
        string loadBefore = CpuUsage.LoadAverage();
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        if (!summaries.Any(s => s.BenchmarksCases.Length > 0))
            return 0;
        var cpu = CpuShare.Between(cpuBefore, CpuUsage.Now());
        Console.WriteLine($"CPU during the run (share of all cores): {cpu.OwnPercent:F0}% the benchmarks, {cpu.KernelPercent:F0}% kernel threads and interrupts, " +
            $"{cpu.OtherPercent:F0}% other processes; load average {loadBefore} -> {CpuUsage.LoadAverage()}.");
        return 0;
    }
}
