using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Sandbox.Interop;
using Sandbox.Launch;

namespace Sandbox;

/// <summary>
/// A started sandbox: its standard streams, its pid, and the ways to wait for it or stop it. Disposing it
/// kills whatever is still running and releases everything, even after a failure.
/// </summary>
public sealed class RunningSandbox : IAsyncDisposable
{
    private const int SigKill = 9;
    private const int SigXcpu = 24;
    private const int SigSys = 31;

    private readonly SandboxRunner _runner;
    private readonly PidfdHandle _process;
    private readonly SafeFileHandle _report;
    private readonly long _started;
    private readonly Task _exited;
    private readonly IDisposable? _wallTimer;
    private readonly IDisposable? _cpuTimer;
    private readonly Cgroups.ISandboxCgroup? _cgroup;
    private readonly System.Collections.Immutable.ImmutableArray<EnforcedLimit> _enforced;
    private int _cgroupReleased;
    private SafeFileHandle? _mountNamespace;
    private IDisposable? _heldLayers;
    private readonly Lock _gate = new();
    private long _exitedAt;
    private KillReason _killReason;
    private SandboxResult? _result;
    private ExitFacts? _exitFacts;
    private bool _disposed;

    internal RunningSandbox(SandboxRunner runner, SandboxSpec spec, AppliedIsolation isolation, Cgroups.SandboxCgroups.Assignment limits, int pid,
        PidfdHandle process, long started, Stream stdin, Stream stdout, Stream stderr, SafeFileHandle report, SafeFileHandle? mountNamespace = null,
        IDisposable? heldLayers = null)
    {
        _runner = runner;
        Spec = spec;
        Isolation = isolation;
        Pid = pid;
        _process = process;
        _started = started;
        _report = report;
        _mountNamespace = mountNamespace;
        _heldLayers = heldLayers;
        _cgroup = limits.Cgroup;
        _enforced = limits.Enforced;
        StandardInput = stdin;
        StandardOutput = stdout;
        StandardError = stderr;
        _exited = runner.ExitWatcher.WhenExited(process, CollectOnExit).ContinueWith(
            _ => Interlocked.CompareExchange(ref _exitedAt, Stopwatch.GetTimestamp(), 0),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        if (spec.WallTimeLimit is { } limit)
        {
            long due = started + (long)(limit.TotalSeconds * Stopwatch.Frequency);
            _wallTimer = LimitClock.Shared.At(due, () => Kill(KillReason.TimedOut));
        }
        if (spec.CpuTimeLimit is { } cpuLimit && _cgroup is { } cgroup)
            _cpuTimer = LimitClock.Shared.Every(Cgroups.SandboxCgroups.CpuTimePollInterval, () => CheckCpuTime(cgroup, cpuLimit));
    }

    /// <summary>Kills the sandbox once its cgroup has used the CPU-time limit; false stops the polling.</summary>
    private bool CheckCpuTime(Cgroups.ISandboxCgroup cgroup, TimeSpan limit)
    {
        if (_exited.IsCompleted) return false;
        try
        {
            if (cgroup.ReadCpuTime() < limit) return true;
            Kill(KillReason.CpuTimeExceeded);
            return false;
        }
        catch (SandboxException)
        {
            // The cgroup is going away with the sandbox; the final accounting reads what is left.
            return false;
        }
    }

    private enum KillReason
    {
        None,
        TimedOut,
        CpuTimeExceeded,
        OutputLimitExceeded,
        Killed,
        Cancelled,
        Disposed,
    }

    /// <summary>What is running.</summary>
    public SandboxSpec Spec { get; }

    /// <summary>The isolation applied.</summary>
    public AppliedIsolation Isolation { get; }

    /// <summary>The host pid of the sandbox's init (PID 1 inside).</summary>
    public int Pid { get; }

    /// <summary>The program's standard input (<see cref="Stream.Null"/> when inherited); dispose it to send EOF.</summary>
    public Stream StandardInput { get; }

    /// <summary>The program's standard output (<see cref="Stream.Null"/> when inherited).</summary>
    public Stream StandardOutput { get; }

    /// <summary>The program's standard error (<see cref="Stream.Null"/> when inherited).</summary>
    public Stream StandardError { get; }

    /// <summary>Whether the sandbox has exited.</summary>
    public bool HasExited => _exited.IsCompleted;

    /// <summary>Waits for the sandbox to exit. The result's output is empty: read the streams (or use <see cref="SandboxSpec.RunAsync"/>).</summary>
    /// <param name="cancellationToken">Cancelling kills the whole sandbox and throws <see cref="OperationCanceledException"/>.</param>
    public async Task<SandboxResult> WaitAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _exited.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Kill(KillReason.Cancelled);
            await _exited.ConfigureAwait(false);
            Collect();
            ReleaseMountNamespace();
            ReleaseHeldLayers();
            await ReleaseCgroupAsync().ConfigureAwait(false);
            throw new OperationCanceledException(
                $"The sandbox running '{Spec.Program}' (pid {Pid}) was cancelled; it and every process in it have been killed.",
                cancellationToken);
        }
        var result = Collect();
        ReleaseMountNamespace();
        ReleaseHeldLayers();
        await ReleaseCgroupAsync().ConfigureAwait(false);
        return result;
    }

    /// <summary>Kills every process in the sandbox and waits until they are gone.</summary>
    public async Task KillAsync()
    {
        Kill(KillReason.Killed);
        await _exited.ConfigureAwait(false);
    }

    /// <summary>Kills the whole sandbox because it wrote more than its output limit.</summary>
    internal void KillForOutputLimit() => Kill(KillReason.OutputLimitExceeded);

    /// <summary>Sends <paramref name="signal"/> to the sandbox's init, which forwards it to the program (SIGKILL kills the whole sandbox).</summary>
    /// <param name="signal">The signal number, e.g. 15 for SIGTERM.</param>
    public void Signal(int signal)
    {
        if (signal == SigKill)
        {
            Kill(KillReason.Killed);
            return;
        }
        lock (_gate)
        {
            if (!_exited.IsCompleted && !_disposed)
                _runner.Syscalls.SendSignal(_process, signal);
        }
    }

    private Seccomp.SeccompSupervisor? _supervisor;

    /// <summary>The host's seccomp supervisor of this sandbox, ended with it.</summary>
    internal void AttachSupervisor(Seccomp.SeccompSupervisor supervisor) => _supervisor = supervisor;

    /// <summary>Kills whatever is still running, reaps it and releases every handle.</summary>
    public async ValueTask DisposeAsync()
    {
        _supervisor?.Dispose();
        _wallTimer?.Dispose();
        _cpuTimer?.Dispose();
        if (!_exited.IsCompleted)
        {
            Kill(KillReason.Disposed);
            await _exited.ConfigureAwait(false);
        }
        Collect();
        ReleaseMountNamespace();
        ReleaseHeldLayers();
        await ReleaseCgroupAsync().ConfigureAwait(false);
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _process.Dispose();
        _report.Dispose();
        await StandardInput.DisposeAsync().ConfigureAwait(false);
        await StandardOutput.DisposeAsync().ConfigureAwait(false);
        await StandardError.DisposeAsync().ConfigureAwait(false);
    }

    private void Kill(KillReason reason)
    {
        lock (_gate)
        {
            if (_exited.IsCompleted || _disposed) return;
            if (_killReason == KillReason.None) _killReason = reason;
            _runner.Syscalls.SendSignal(_process, SigKill);
        }
    }

    /// <summary>
    /// On the exit watcher's thread, the moment the exit is seen: stamps it, reaps init and reads its report and the
    /// cgroup's accounting, while the waiters' continuations are still on their way to a thread-pool thread (a wake-up
    /// of 0.05-0.1 ms on a small VM); <see cref="Collect"/> then finds them read.
    /// </summary>
    private void CollectOnExit()
    {
        Interlocked.CompareExchange(ref _exitedAt, Stopwatch.GetTimestamp(), 0);
        lock (_gate)
        {
            if (_result is not null || _exitFacts is not null || _disposed) return;
            if (!_runner.Syscalls.TryReap(_process, out var init)) return;
            var report = ReadExitReport();
            _exitFacts = new ExitFacts(init, report, ReadUsage(report));
        }
    }

    /// <summary>What the exit left to read, read once: init's status, its report, the accounting.</summary>
    private sealed record ExitFacts(WaitStatus Init, ExitReportRecord? Report, ResourceUsage Usage);

    /// <summary>Reaps init (once) and turns its exit report and the cgroup's accounting into the result.</summary>
    private SandboxResult Collect()
    {
        lock (_gate)
        {
            if (_result is not null) return _result;
            var facts = _exitFacts;
            var init = facts?.Init ?? Reap();
            var report = facts is not null ? facts.Report : ReadExitReport();
            var usage = facts?.Usage ?? ReadUsage(report);
            var wallTime = Stopwatch.GetElapsedTime(_started, Volatile.Read(ref _exitedAt) is var at and > 0 ? at : Stopwatch.GetTimestamp());
            var status = report is { } r ? WaitStatus.FromWaitStatusWord(r.WaitStatus) : (WaitStatus?)null;
            _result = (_killReason switch
            {
                KillReason.TimedOut => Result(SandboxOutcome.TimedOut, null, SigKill, wallTime),
                KillReason.CpuTimeExceeded => Result(SandboxOutcome.CpuTimeLimitExceeded, null, SigKill, wallTime),
                KillReason.OutputLimitExceeded => Result(SandboxOutcome.OutputLimitExceeded, null, SigKill, wallTime),
                _ when Spec.CpuTimeLimit is { } cpuLimit && (status?.Signal ?? init.Signal) is { } killer
                       && (killer == SigXcpu || (killer == SigKill && usage.CpuTime >= cpuLimit))
                    => Result(SandboxOutcome.CpuTimeLimitExceeded, null, status?.Signal ?? init.Signal, wallTime),
                _ when (status?.Signal ?? init.Signal) == SigSys && Isolation.Seccomp is not null
                    => Result(SandboxOutcome.SeccompViolation, null, SigSys, wallTime) with { SeccompViolation = FindSeccompViolation() },
                _ when usage.OomKilled => Result(SandboxOutcome.MemoryLimitExceeded, status?.ExitCode, status?.Signal ?? (status is null ? SigKill : null), wallTime),
                _ when status is { } s => FromStatus(s, wallTime),
                KillReason.None => FromStatus(init, wallTime),
                _ => Result(SandboxOutcome.Signaled, null, SigKill, wallTime),
            }) with { Usage = usage, Enforced = _enforced };
            return _result;
        }
    }

    /// <summary>
    /// The system call the filter killed the program for, from the kernel's audit line of the kill: the one seccomp
    /// kill logged between the launch and the exit (the log has no sandbox identity to match on, so when kills of
    /// several sandboxes overlap and disagree, the call is reported as unknown rather than guessed).
    /// </summary>
    private SeccompViolation FindSeccompViolation()
    {
        // The kernel log stamps its records with the scheduler's clock, not CLOCK_MONOTONIC, and the two drift apart
        // (12 ms after 6.5 hours here): the window has a second of slack either side, and among the kills in it those
        // of a process named like the program (the audit line's comm) come first.
        long Micros(long timestamp) => (long)(timestamp * (1_000_000.0 / Stopwatch.Frequency));
        long from = Micros(_started) - 1_000_000;
        long exited = Volatile.Read(ref _exitedAt);
        long to = Micros(exited > 0 ? exited : Stopwatch.GetTimestamp()) + 2_000_000;
        string program = Path.GetFileName(Spec.Program);
        string comm = program.Length > 15 ? program[..15] : program;
        // The kernel prints audit lines from its kauditd thread, after the kill: on a busy machine the line trails the
        // exit by a few hundred ms (waited for up to 1 s; only a violation pays it).
        var kills = ReadKills();
        for (int attempt = 0; kills.Count == 0 && attempt < 200; attempt++)
        {
            Thread.Sleep(5);
            kills = ReadKills();
        }
        var named = kills.Where(k => k.Command == comm).Select(k => (k.Architecture, k.Syscall)).Distinct().ToList();
        var candidates = named.Count > 0 ? named : [.. kills.Select(k => (k.Architecture, k.Syscall)).Distinct()];
        if (candidates.Count != 1)
            return SeccompViolation.Unknown;
        var (architecture, syscall) = candidates[0];

        List<(uint Architecture, int Syscall, string Command)> ReadKills() => _runner.Syscalls.ReadKernelLog()
            .Select(Seccomp.SeccompAuditRecord.TryParse)
            .Where(r => r is { Signal: SigSys } && r.MonotonicMicroseconds >= from && r.MonotonicMicroseconds <= to)
            .Select(r => (r!.Architecture, r.Syscall, r.Command))
            .ToList();
        var arch = (Seccomp.SeccompArchitecture)architecture;
        string? name = Enum.IsDefined(arch) ? Seccomp.Tables.SyscallTable.For(arch).NameOf(syscall) : null;
        return new SeccompViolation(syscall, name, Enum.IsDefined(arch) ? arch : null);
    }

    private ResourceUsage ReadUsage(ExitReportRecord? report)
    {
        if (_cgroup is not null)
        {
            try
            {
                var usage = Cgroups.SandboxCgroups.ToUsage(_cgroup.ReadUsage());
                // A cgroup without the memory controller (v2 on a hybrid host's cgroup2, which has none) has no peak:
                // what init measured of each process it reaped is the next best thing, and says so.
                if (usage.PeakMemoryBytes is null && report is { } measured)
                    usage = usage with { PeakMemoryBytes = measured.MaxRssKib * 1024, MemorySource = MemorySource.RusageMaxRss };
                return usage;
            }
            catch (SandboxException)
            {
                // Fall back to what init measured.
            }
        }
        if (report is not { } r) return ResourceUsage.None;
        var user = TimeSpan.FromMicroseconds(r.UserMicroseconds);
        var system = TimeSpan.FromMicroseconds(r.SystemMicroseconds);
        return new ResourceUsage(user + system, user, system, r.MaxRssKib * 1024, MemorySource.RusageMaxRss, false, null, CpuTimeSource.Rusage);
    }

    /// <summary>The host's handle on the sandbox's mount namespace until the run is reported, else null (tests).</summary>
    internal SafeFileHandle? HeldMountNamespace => Volatile.Read(ref _mountNamespace);

    /// <summary>Hands the held mount namespace (every process in it is gone) to the runner's deferred clean-up.</summary>
    private void ReleaseMountNamespace()
    {
        if (Interlocked.Exchange(ref _mountNamespace, null) is { } handle && !_runner.Cleanup.TryDefer(handle.Dispose))
            handle.Dispose();
    }

    /// <summary>Lets go of the idmapped image layers this sandbox was launched with (the last holder closes them).</summary>
    private void ReleaseHeldLayers() => Interlocked.Exchange(ref _heldLayers, null)?.Dispose();

    /// <summary>
    /// Removes the sandbox's cgroup once its accounting has been read: on the runner's clean-up thread, so the result
    /// does not wait for it, or here when that thread has a backlog.
    /// </summary>
    private async Task ReleaseCgroupAsync()
    {
        if (_cgroup is not { } cgroup || Interlocked.Exchange(ref _cgroupReleased, 1) != 0) return;
        if (_runner.Cleanup.TryDefer(() => DestroyAsync(cgroup).GetAwaiter().GetResult()))
            return;
        await DestroyAsync(cgroup).ConfigureAwait(false);
    }

    private static async Task DestroyAsync(Cgroups.ISandboxCgroup cgroup)
    {
        try
        {
            await cgroup.DestroyAsync().ConfigureAwait(false);
        }
        catch (SandboxException)
        {
            // Left for the stale sweep of the next host start; the result is already complete.
        }
    }

    private SandboxResult FromStatus(WaitStatus status, TimeSpan wallTime) => status switch
    {
        { ExitCode: 0 } => Result(SandboxOutcome.Ok, 0, null, wallTime),
        { ExitCode: { } code } => Result(SandboxOutcome.NonZeroExit, code, null, wallTime),
        { Signal: { } signal } => Result(SandboxOutcome.Signaled, null, signal, wallTime),
        _ => Result(SandboxOutcome.Signaled, null, SigKill, wallTime),
    };

    private SandboxResult Result(SandboxOutcome outcome, int? exitCode, int? signal, TimeSpan wallTime) =>
        new(outcome, exitCode, signal, wallTime, CapturedOutput.None, CapturedOutput.None, Isolation);

    private WaitStatus Reap()
    {
        // The pidfd is readable only once init and its whole PID namespace are gone; the reap is immediate.
        var spin = new SpinWait();
        WaitStatus status;
        while (!_runner.Syscalls.TryReap(_process, out status))
            spin.SpinOnce();
        return status;
    }

    private ExitReportRecord? ReadExitReport()
    {
        Span<byte> buffer = stackalloc byte[Unsafe.SizeOf<ExitReportRecord>()];
        int n = _runner.Syscalls.ReadAvailable(_report, buffer);
        if (n != buffer.Length) return null;
        var record = MemoryMarshal.Read<ExitReportRecord>(buffer);
        return record.Magic == PlanConstants.ExitMagic ? record : null;
    }
}
