namespace Sandbox.Benchmarks.Cgroups;

/// <summary>Whether a cgroup hierarchy is mounted with favordynmods, which changes what joining a cgroup costs.</summary>
internal static class CgroupMountOptions
{
    /// <summary>"on (MOUNT)" or "off", from /proc/self/mountinfo's super options.</summary>
    public static string FavorDynamicModifications()
    {
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            string[] halves = line.Split(" - ", 2);
            if (halves.Length < 2) continue;
            string[] after = halves[1].Split(' ');
            if (after.Length >= 3 && after[0] is "cgroup" or "cgroup2" && after[2].Split(',').Contains("favordynmods"))
                return $"on ({halves[0].Split(' ')[4]}); cgroup.procs writes take a per-process lock, no RCU grace period";
        }
        return "off; the first cgroup.procs write after a quiet spell waits for an RCU grace period";
    }
}
