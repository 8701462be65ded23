using System.Globalization;

namespace Sandbox.Benchmarks.SideBySide;

/// <summary>
/// Machine-wide CPU time (/proc/stat), this process's own with the children it reaped (/proc/self/stat),
/// and the kernel's (kernel threads, interrupts), so a report can say how busy the machine was with
/// other processes while it measured. All in USER_HZ ticks.
/// </summary>
internal readonly record struct CpuUsage(long Total, long Busy, long Steal, long Own, long Kernel)
{
    public static CpuUsage Now()
    {
        // cpu  user nice system idle iowait irq softirq steal guest guest_nice
        long[] cpu = [.. File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(v => long.Parse(v, CultureInfo.InvariantCulture))];
        long total = cpu.Sum();
        long idle = cpu[3] + cpu[4];
        long own = Times("/proc/self/stat", withChildren: true) ?? 0;
        long kernel = cpu[5] + cpu[6] + KernelThreads();
        return new CpuUsage(total, total - idle - cpu[7], cpu[7], own, kernel);
    }

    /// <summary>The load average line, e.g. "0.12 0.30 0.25".</summary>
    public static string LoadAverage() =>
        string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    /// <summary>utime + stime (+ cutime + cstime) of one process; null if it is gone.</summary>
    private static long? Times(string statPath, bool withChildren, Func<string[], bool>? filter = null)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(statPath);
        }
        catch (IOException)
        {
            return null;
        }
        // After "pid (comm) ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        if (filter is not null && !filter(fields)) return null;
        return Enumerable.Range(11, withChildren ? 4 : 2).Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture));
    }

    /// <summary>CPU time of every kernel thread (kthreadd, pid 2, and its children): kworkers, ksoftirqd, rcu.</summary>
    private static long KernelThreads()
    {
        long sum = 0;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            string name = Path.GetFileName(dir);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0])) continue;
            sum += Times(Path.Combine(dir, "stat"), withChildren: false, fields => name == "2" || fields[1] == "2") ?? 0;
        }
        return sum;
    }
}

/// <summary>CPU use between two <see cref="CpuUsage"/> snapshots, as shares of all cores' time.</summary>
/// <param name="OwnPercent">This process and the children it reaped (the contenders).</param>
/// <param name="KernelPercent">Kernel threads and interrupts (some of it on our behalf: namespace clean-up runs in kworkers).</param>
/// <param name="OtherPercent">Other processes: the interference.</param>
/// <param name="StealPercent">Time the hypervisor gave to someone else.</param>
internal sealed record CpuShare(double OwnPercent, double KernelPercent, double OtherPercent, double StealPercent)
{
    public static CpuShare Between(CpuUsage before, CpuUsage after)
    {
        double total = Math.Max(1, after.Total - before.Total);
        double busy = (after.Busy - before.Busy) / total * 100;
        double own = (after.Own - before.Own) / total * 100;
        double kernel = (after.Kernel - before.Kernel) / total * 100;
        return new CpuShare(own, kernel, Math.Max(0, busy - own - kernel), (after.Steal - before.Steal) / total * 100);
    }
}
