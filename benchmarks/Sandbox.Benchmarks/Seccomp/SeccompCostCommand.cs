using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sandbox.Benchmarks.SideBySide;
using Sandbox.Seccomp;
using Sandbox.Seccomp.Bpf;
using Sandbox.Seccomp.Profiles;
using Sandbox.Seccomp.Tables;
using Sandbox.Tests.Seccomp;

namespace Sandbox.Benchmarks.Seccomp;

/// <summary>
/// <c>seccomp-cost [--rounds N] [--calls N] [--reps N] [--out FILE]</c>: what a loaded seccomp filter costs each system
/// call. Four filters are written to files — the Default profile and the Moby default profile (imported from
/// shared/fixtures/seccomp/moby-default.json), each compiled by us and by libseccomp — and benchmarks/seccomp-loop
/// loads one (or none) and times a raw system call in a loop. Every round runs each filter × call once, in a shuffled
/// order, so the medians and their ratios come from one run. Before timing, each filter is checked against its
/// policy's own evaluation on every syscall number, so the filters compared are the same policy.
/// </summary>
internal static class SeccompCostCommand
{
    private const string Usage = "usage: seccomp-cost [--rounds N (15)] [--calls N per repetition (100000)] [--reps N (5)] [--out FILE]";

    /// <summary>The calls seccomp-loop knows, with the seccomp_data each gives the filter.</summary>
    private static readonly (string Name, string Description, Func<SyscallTable, SeccompArchitecture, SeccompData> Data)[] Calls =
    [
        ("getppid", "getppid()", (t, a) => new SeccompData(Number(t, "getppid"), a)),
        ("getrandom", "getrandom(NULL, 0, 0)", (t, a) => new SeccompData(Number(t, "getrandom"), a, 0, 0, 0)),
        ("personality", "personality(0xffffffff)", (t, a) => new SeccompData(Number(t, "personality"), a, 0xFFFFFFFF)),
    ];

    /// <summary>Arguments tried in arg0 and arg1 of every syscall when checking a filter against its policy.</summary>
    private static readonly ulong[] ProbeValues =
        [0, 1, 2, 8, 38, 40, 0x11, 0x20000, 0x20008, 0x10000000 | 0x11, 0x7E020000, 0x7FFFFFFF, 0xFFFFFFFF, 0x100000000, ulong.MaxValue];

    private sealed record Filter(string Name, SeccompPolicy? Policy, ImmutableArray<BpfInstruction> Instructions, string? File);

    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = 15, calls = 100_000, reps = 5;
        string? outPath = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--rounds" && i + 1 < args.Length && int.TryParse(args[++i], CultureInfo.InvariantCulture, out rounds) && rounds >= 3)
                continue;
            if (args[i] == "--calls" && i + 1 < args.Length && int.TryParse(args[++i], CultureInfo.InvariantCulture, out calls) && calls >= 1000)
                continue;
            if (args[i] == "--reps" && i + 1 < args.Length && int.TryParse(args[++i], CultureInfo.InvariantCulture, out reps) && reps is >= 1 and <= 1000)
                continue;
            if (args[i] == "--out" && i + 1 < args.Length)
            {
                outPath = Path.GetFullPath(args[++i]);
                continue;
            }
            await Console.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }
        var architecture = SeccompArchitectures.Native;
        if (architecture is not { } arch)
        {
            await Console.Error.WriteLineAsync("seccomp-cost: seccomp filters are compiled for x86_64 and aarch64 only.").ConfigureAwait(false);
            return 1;
        }
        string loop = Path.Combine(AppContext.BaseDirectory, "seccomp-loop");
        if (!File.Exists(loop))
        {
            await Console.Error.WriteLineAsync($"seccomp-cost: {loop} is missing; build the benchmarks project (it compiles benchmarks/seccomp-loop).").ConfigureAwait(false);
            return 1;
        }

        string mobyPath = SeccompBenchmarks.FindMobyProfile();
        var moby = DockerProfileImporter.ImportFile(mobyPath, new DockerProfileOptions { Architecture = arch }).Policy;
        var policies = new (string Name, SeccompPolicy Policy)[] { ("Default", SeccompPolicy.Default), ("Moby default", moby) };

        string directory = Directory.CreateTempSubdirectory("seccomp-cost-").FullName;
        try
        {
            // Unconfined compiles to the architecture check and "allow": the floor any filter pays.
            var filters = new List<Filter> { new("none", null, [], null), Write(directory, "Unconfined (allow all), ours", SeccompPolicy.Unconfined, SeccompPolicy.Unconfined.Compile(arch)) };
            var pairs = new List<(Filter Ours, Filter Theirs)>();
            var notes = new StringBuilder();
            foreach (var (name, policy) in policies)
            {
                var ours = Write(directory, $"{name}, ours", policy, policy.Compile(arch));
                filters.Add(ours);
                try
                {
                    var theirs = Write(directory, $"{name}, libseccomp {Libseccomp.Version}", policy, new SeccompProgram(arch, Libseccomp.Compile(policy)));
                    filters.Add(theirs);
                    pairs.Add((ours, theirs));
                }
                catch (NotSupportedException e)
                {
                    notes.Append(CultureInfo.InvariantCulture, $"- {name}: not built with libseccomp, whose rules do not take the first match: {e.Message}\n");
                }
            }

            var table = SyscallTable.For(arch);
            string checks = Check(filters, table, arch) + notes;
            var samples = filters.SelectMany(f => Calls.Select(c => (f.Name, c.Name))).ToDictionary(k => k, _ => new List<double>(rounds));
            var order = samples.Keys.ToArray();
            var random = new Random(20251126);

            Console.WriteLine($"seccomp-cost: {rounds} rounds of {order.Length} runs (+1 warm-up round), {calls} calls × {reps} repetitions per run");
            var cpuBefore = CpuUsage.Now();
            string loadBefore = CpuUsage.LoadAverage();
            for (int round = -1; round < rounds; round++)
            {
                if (round == 0)
                {
                    cpuBefore = CpuUsage.Now();
                    loadBefore = CpuUsage.LoadAverage();
                }
                random.Shuffle(order);
                foreach (var (filterName, callName) in order)
                {
                    var filter = filters.First(f => f.Name == filterName);
                    double nsPerCall = await RunLoopAsync(loop, filter.File, callName, calls, reps).ConfigureAwait(false);
                    if (round >= 0)
                        samples[(filterName, callName)].Add(nsPerCall);
                }
                Console.Write(round < 0 ? "w" : ".");
            }
            Console.WriteLine();
            var cpu = CpuShare.Between(cpuBefore, CpuUsage.Now());

            string report = Report(filters, pairs, samples, table, arch, checks, rounds, calls, reps, cpu, loadBefore, CpuUsage.LoadAverage(), mobyPath);
            Console.Write(report);
            if (outPath is not null)
            {
                await File.WriteAllTextAsync(outPath, report).ConfigureAwait(false);
                Console.WriteLine($"wrote {outPath}");
            }
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Filter Write(string directory, string name, SeccompPolicy policy, SeccompProgram program)
    {
        string path = Path.Combine(directory, $"filter-{Guid.NewGuid():N}.bpf");
        File.WriteAllBytes(path, program.ToBytes());
        return new Filter(name, policy, program.Instructions, path);
    }

    /// <summary>seccomp-loop once; its median nanoseconds per call.</summary>
    private static async Task<double> RunLoopAsync(string loop, string? filter, string call, int calls, int reps)
    {
        var start = new ProcessStartInfo(loop) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (filter is not null)
        {
            start.ArgumentList.Add("--filter");
            start.ArgumentList.Add(filter);
        }
        foreach (string arg in new[] { "--call", call, "--calls", calls.ToString(CultureInfo.InvariantCulture), "--reps", reps.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Process.Start({loop}) returned null.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = await process.StandardError.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        string output = await stdout.ConfigureAwait(false);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"seccomp-loop --call {call} under {filter ?? "no filter"} exited with {process.ExitCode}: {stderr.Trim()}");
        string[] words = output.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        int at = Array.IndexOf(words, "median_ns");
        return at >= 0 && at + 1 < words.Length && double.TryParse(words[at + 1], CultureInfo.InvariantCulture, out double median)
            ? median
            : throw new InvalidOperationException($"seccomp-loop printed no median: {output}");
    }

    /// <summary>
    /// Each filter against its policy's own evaluation on every syscall number 0..MaxNumber, with no arguments and with each
    /// probe value in arg0 and arg1; and that each timed call is allowed. Returns the report's lines.
    /// </summary>
    private static string Check(List<Filter> filters, SyscallTable table, SeccompArchitecture arch)
    {
        var text = new StringBuilder();
        foreach (var filter in filters.Where(f => f.Policy is not null))
        {
            int probes = 0;
            var disagreeing = new SortedSet<string>(StringComparer.Ordinal);
            for (int nr = 0; nr <= table.MaxNumber; nr++)
            {
                var data = new List<SeccompData> { new(nr, arch) };
                foreach (ulong value in ProbeValues)
                {
                    data.Add(new SeccompData(nr, arch, value));
                    data.Add(new SeccompData(nr, arch, 0, value));
                }
                foreach (var call in data)
                {
                    probes++;
                    if (BpfInterpreter.Run(filter.Instructions.AsSpan(), call) != filter.Policy!.Evaluate(arch, call).ReturnValue)
                        disagreeing.Add(table.NameOf(nr) ?? nr.ToString(CultureInfo.InvariantCulture));
                }
            }
            foreach (var (name, description, data) in Calls)
                if (BpfInterpreter.Evaluate(filter.Instructions.AsSpan(), data(table, arch)) != SeccompAction.Allow)
                    throw new InvalidOperationException($"The filter '{filter.Name}' does not allow {description}: timing it would time a refusal.");
            text.Append(CultureInfo.InvariantCulture, $"- {filter.Name}: ")
                .Append(disagreeing.Count == 0
                    ? $"agrees with the policy on all {probes} probe calls (syscalls 0..{table.MaxNumber}, no arguments and {ProbeValues.Length} values in arg0 and in arg1)\n"
                    : $"disagrees with the policy on some of {probes} probe calls, for {string.Join(", ", disagreeing)} (none of them timed here)\n");
        }
        return text.ToString();
    }

    private static string Report(List<Filter> filters, List<(Filter Ours, Filter Theirs)> pairs, Dictionary<(string, string), List<double>> samples, SyscallTable table, SeccompArchitecture arch,
        string checks, int rounds, int calls, int reps, CpuShare cpu, string loadBefore, string loadAfter, string mobyPath)
    {
        double Median(string filter, string call) => Percentile(samples[(filter, call)], 0.5);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# seccomp-cost: a system call under a seccomp filter\n\n")
            .Append(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, Linux {Environment.OSVersion.Version}, {Environment.ProcessorCount} cores, {arch.DisplayName()}. ")
            .Append(CultureInfo.InvariantCulture, $"{rounds} rounds after one warm-up round; each round runs benchmarks/seccomp-loop once per filter × call, in a shuffled order; ")
            .Append(CultureInfo.InvariantCulture, $"each run sets no_new_privs, loads the filter (or none), and times {calls} raw calls {reps} times after one untimed repetition, and gives the median of those. ")
            .Append("Figures are the medians over the rounds (25th–75th percentile in parentheses), in nanoseconds per call.\n\n")
            .Append(CultureInfo.InvariantCulture, $"CPU during the rounds: {cpu.OwnPercent:F0}% this process and its children, {cpu.KernelPercent:F0}% kernel threads and interrupts, ")
            .Append(CultureInfo.InvariantCulture, $"**{cpu.OtherPercent:F0}% other processes**, {cpu.StealPercent:F0}% steal; load average {loadBefore} -> {loadAfter}.\n\n")
            .Append(CultureInfo.InvariantCulture, $"The Moby profile: {Path.GetFileName(mobyPath)} imported with DockerProfileImporter for {arch.DisplayName()} (no capabilities); libseccomp is given the same rules in the same order (Libseccomp.Compile(policy)).\n\n");

        text.Append("## The filters\n\n");
        text.Append("| filter | instructions | " + string.Join(" | ", Calls.Select(c => $"run for {c.Description}")) + " |\n");
        text.Append("| --- | ---: |" + string.Concat(Calls.Select(_ => " ---: |")) + "\n");
        foreach (var filter in filters.Where(f => f.Policy is not null))
        {
            text.Append(CultureInfo.InvariantCulture, $"| {filter.Name} | {filter.Instructions.Length} |");
            foreach (var (_, _, data) in Calls)
            {
                BpfInterpreter.Run(filter.Instructions.AsSpan(), data(table, arch), out int executed);
                text.Append(CultureInfo.InvariantCulture, $" {executed} |");
            }
            text.Append('\n');
        }
        text.Append("\n(\"run for\": instructions the filter executes for that call, counted by our interpreter.)\n\n").Append(checks).Append('\n');

        text.Append("## Nanoseconds per call\n\n");
        text.Append("| filter | " + string.Join(" | ", Calls.Select(c => c.Description)) + " |\n");
        text.Append("| --- |" + string.Concat(Calls.Select(_ => " ---: |")) + "\n");
        foreach (var filter in filters)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {filter.Name} |");
            foreach (var call in Calls)
            {
                var list = samples[(filter.Name, call.Name)];
                text.Append(CultureInfo.InvariantCulture, $" {Percentile(list, 0.5):F0} ({Percentile(list, 0.25):F0}–{Percentile(list, 0.75):F0}) |");
            }
            text.Append('\n');
        }

        text.Append("\n## Ratios (of the medians above)\n\n");
        text.Append("| | " + string.Join(" | ", Calls.Select(c => c.Description)) + " |\n");
        text.Append("| --- |" + string.Concat(Calls.Select(_ => " ---: |")) + "\n");
        foreach (var filter in filters.Skip(1))
            text.Append(CultureInfo.InvariantCulture, $"| {filter.Name} ÷ none (target ≤ 1.3×) |")
                .Append(string.Concat(Calls.Select(c => string.Create(CultureInfo.InvariantCulture, $" {Median(filter.Name, c.Name) / Median("none", c.Name):F2}× |"))))
                .Append('\n');
        foreach (var (ours, theirs) in pairs)
            text.Append(CultureInfo.InvariantCulture, $"| {ours.Name} ÷ libseccomp |")
                .Append(string.Concat(Calls.Select(c => string.Create(CultureInfo.InvariantCulture, $" {Median(ours.Name, c.Name) / Median(theirs.Name, c.Name):F2}× |"))))
                .Append('\n');
        text.Append('\n')
            .Append("getppid() and getrandom() are allowed by every filter here whatever their arguments, and reach that verdict reading only the architecture and ")
            .Append("the syscall number: the kernel (5.11 and later, on x86_64 and aarch64) emulates each filter once when it is loaded and marks such syscalls in ")
            .Append("a per-filter bitmap, and then lets them through without running the filter at all. For them the filter's shape (a binary search here, ")
            .Append("libseccomp's comparisons) does not matter; what is left is the seccomp entry check. personality(0xffffffff) is allowed only for some ")
            .Append("arguments, so the kernel runs the whole filter on each call: that column is what a filter's length and shape cost. ")
            .Append("Unconfined is the smallest filter there is (the architecture check, then allow): what any filter costs a call, whatever it holds.\n");
        return text.ToString();
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        double at = p * (sorted.Length - 1);
        int low = (int)Math.Floor(at);
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
    }

    private static int Number(SyscallTable table, string name) =>
        table.TryGetNumber(name, out int number) ? number : throw new InvalidOperationException($"'{name}' is not in the {table.Architecture} syscall table.");
}
