using System.Runtime.InteropServices;

namespace Sandbox.Benchmarks.Images;

/// <summary>
/// CPU time (user + system) of this process and of every descendant it and they waited for (getrusage RUSAGE_SELF +
/// RUSAGE_CHILDREN, µs resolution): a sandbox's init is reaped by the runner and its payload by init, so a run's whole
/// CPU lands here once it returns. Less disturbed than wall time by other jobs competing for the CPU.
/// </summary>
internal static partial class ProcessCpuTime
{
    private const int RusageSelf = 0;
    private const int RusageChildren = -1;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }

    /// <summary>struct rusage: the two timevals, then 14 longs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public TimeVal User;
        public TimeVal System;
        public unsafe fixed long Rest[14];
    }

    [LibraryImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static partial int GetRusage(int who, out Rusage usage);

    /// <summary>Microseconds of CPU so far, this process and its reaped descendants.</summary>
    public static double NowMicroseconds() => Of(RusageSelf) + Of(RusageChildren);

    private static double Of(int who)
    {
        if (GetRusage(who, out var usage) != 0)
            throw new InvalidOperationException($"getrusage failed: errno {Marshal.GetLastPInvokeError()}");
        return (usage.User.Seconds + usage.System.Seconds) * 1e6 + usage.User.Microseconds + usage.System.Microseconds;
    }
}
