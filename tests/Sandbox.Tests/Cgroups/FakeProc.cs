namespace Sandbox.Tests.Cgroups;

/// <summary>Fills a fake file system's /proc: /proc/PID/stat, /proc/self/ns/pid, /proc/swaps.</summary>
internal static class FakeProc
{
    /// <summary>The pid namespace of the fake host (the initial pid namespace's inode on this machine).</summary>
    public const ulong PidNamespace = 4026531836;

    /// <summary>A /proc/PID/stat line in the kernel's format (this machine's `cat /proc/self/stat`, with pid, command and start time changed).</summary>
    public static string StatLine(int pid, string command, ulong startTime) =>
        FormattableString.Invariant($"{pid} ({command}) R 20410 20410 6810 0 -1 4194304 97 0 0 0 0 0 0 0 20 0 1 0 {startTime} 3133440 394 ")
        + "18446744073709551615 94708100759552 94708100779433 140733701252224 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 "
        + "94708100795440 94708100797056 94708883992576 140733701253601 140733701253621 140733701253621 140733701255147 0\n";

    /// <summary>Makes the fake host process <paramref name="pid"/>, started at <paramref name="startTime"/>.</summary>
    public static void InstallSelf(FakeCgroupFileSystem fileSystem, int pid = 4242, ulong startTime = 225652)
    {
        fileSystem.SetFile("/proc/self/stat", StatLine(pid, "dotnet", startTime));
        fileSystem.SetFile($"/proc/{pid}/stat", StatLine(pid, "dotnet", startTime));
        fileSystem.Links["/proc/self/ns/pid"] = $"pid:[{PidNamespace}]";
        fileSystem.SetFile("/proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
    }

    /// <summary>Another live process.</summary>
    public static void AddProcess(FakeCgroupFileSystem fileSystem, int pid, ulong startTime, string command = "dotnet") =>
        fileSystem.SetFile($"/proc/{pid}/stat", StatLine(pid, command, startTime));

    /// <summary>Gives the host a swap device.</summary>
    public static void AddSwap(FakeCgroupFileSystem fileSystem) =>
        fileSystem.SetFile("/proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swapfile  file\t\t2097148\t\t0\t\t-2\n");
}
