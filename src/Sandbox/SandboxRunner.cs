using System.Diagnostics;
using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;
using Sandbox.Interop;
using Sandbox.Launch;

namespace Sandbox;

/// <summary>
/// Starts sandboxes: validates the spec, plans the launch, hands the plan to the native launcher on its
/// dedicated thread, and tracks each sandbox's init by its pidfd. One per process is enough
/// (<see cref="Shared"/>); it is thread-safe.
/// </summary>
public sealed class SandboxRunner
{
    private static readonly Lazy<SandboxRunner> LazyShared = new(() => new SandboxRunner(LinuxSyscalls.Instance, LinuxSyscalls.Instance));

    private readonly ISyscalls _syscalls;
    private readonly IHostFileSystem _fileSystem;
    private readonly Lazy<LauncherThread> _launcher;
    private readonly Lazy<PidfdExitWatcher> _exitWatcher;
    private readonly Lazy<SafeFileHandle> _init;
    private readonly Cgroups.SandboxCgroups _cgroups;

    internal SandboxRunner(ISyscalls syscalls, IHostFileSystem fileSystem, string? initExecutablePath = null)
    {
        _syscalls = syscalls;
        _fileSystem = fileSystem;
        _launcher = new Lazy<LauncherThread>(() => new LauncherThread(syscalls));
        _exitWatcher = new Lazy<PidfdExitWatcher>(() => new PidfdExitWatcher());
        _init = new Lazy<SafeFileHandle>(() => OpenInit(initExecutablePath ?? InitExecutablePath));
        _cgroups = new Cgroups.SandboxCgroups(Cgroups.CgroupFileSystem.Instance, syscalls.EffectiveUserId);
    }

    /// <summary>The runner every <see cref="SandboxSpec.RunAsync"/> and <see cref="SandboxSpec.StartAsync"/> uses.</summary>
    public static SandboxRunner Shared => LazyShared.Value;

    /// <summary>The sandbox-init executable, built from src/native next to this assembly.</summary>
    public static string InitExecutablePath =>
        Path.Combine(Path.GetDirectoryName(typeof(SandboxRunner).Assembly.Location) is { Length: > 0 } dir ? dir : AppContext.BaseDirectory, "sandbox-init");

    internal ISyscalls Syscalls => _syscalls;

    internal PidfdExitWatcher ExitWatcher => _exitWatcher.Value;

    /// <summary>Runs <paramref name="spec"/> to completion, capturing its output up to the spec's limit.</summary>
    /// <param name="spec">What to run.</param>
    /// <param name="cancellationToken">Cancelling kills the whole sandbox and throws <see cref="OperationCanceledException"/>.</param>
    public async Task<SandboxResult> RunAsync(SandboxSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        await using var running = await StartCoreAsync(spec, stdinPipe: spec.StandardInput is not null, cancellationToken).ConfigureAwait(false);
        Action? exceeded = spec.KillOnOutputLimit ? running.KillForOutputLimit : null;
        var stdout = CaptureAsync(running.StandardOutput, spec.OutputLimitBytes, exceeded);
        var stderr = CaptureAsync(running.StandardError, spec.OutputLimitBytes, exceeded);
        var stdin = spec.StandardInput is { } input ? FeedAsync(running.StandardInput, input) : Task.CompletedTask;
        var result = await running.WaitAsync(cancellationToken).ConfigureAwait(false);
        await stdin.ConfigureAwait(false);
        return result with
        {
            StandardOutput = await stdout.ConfigureAwait(false),
            StandardError = await stderr.ConfigureAwait(false),
        };
    }

    /// <summary>Starts <paramref name="spec"/> and returns its handle, with pipes for its standard streams (unless inherited).</summary>
    /// <param name="spec">What to run.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public Task<RunningSandbox> StartAsync(SandboxSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return StartCoreAsync(spec, stdinPipe: true, cancellationToken);
    }

    private async Task<RunningSandbox> StartCoreAsync(SandboxSpec spec, bool stdinPipe, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        uint euid = _syscalls.EffectiveUserId;
        var problems = spec.Validate(hostIsRoot: euid == 0);
        if (problems.Count > 0)
            throw new SandboxValidationException(problems);
        var (plan, isolation) = new LaunchPlanner(_fileSystem).Plan(spec, euid, _syscalls.EffectiveGroupId);
        var limits = _cgroups.Assign(spec);
        plan = plan with
        {
            ResourceLimits = plan.ResourceLimits.AddRange(limits.ResourceLimits),
            CgroupProcsFiles = limits.Cgroup is { } cgroup ? [.. cgroup.ProcsFiles] : [],
        };

        var childEnds = new List<SafeFileHandle>();
        bool started = false;
        SafeFileHandle? stdinHost = null, stdoutHost = null, stderrHost = null, reportHost = null;
        try
        {
            int stdinFd = -1, stdoutFd, stderrFd;
            if (spec.InheritStandardStreams)
            {
                (stdinFd, stdoutFd, stderrFd) = (0, 1, 2);
            }
            else
            {
                if (stdinPipe)
                    stdinFd = Pipe(childEnd: 0, ref stdinHost);
                stdoutFd = Pipe(childEnd: 1, ref stdoutHost);
                stderrFd = Pipe(childEnd: 1, ref stderrHost);
            }
            int reportFd = Pipe(childEnd: 1, ref reportHost);
            plan = plan with
            {
                StdinFd = stdinFd,
                StdoutFd = stdoutFd,
                StderrFd = stderrFd,
                ReportFd = reportFd,
                InitFd = (int)_init.Value.DangerousGetHandle(),
            };

            long startedAt = Stopwatch.GetTimestamp();
            var launched = await _launcher.Value.LaunchAsync(PlanWriter.Write(plan)).ConfigureAwait(false);
            foreach (var end in childEnds) end.Dispose();
            childEnds.Clear();
            if (launched.Error is { } error)
                throw SetupFailures.From(error, plan);

            var running = new RunningSandbox(this, spec, isolation, limits, launched.Pid, launched.Process!, startedAt,
                ToStream(ref stdinHost, PipeDirection.Out), ToStream(ref stdoutHost, PipeDirection.In),
                ToStream(ref stderrHost, PipeDirection.In), reportHost!);
            reportHost = null;
            started = true;
            if (cancellationToken.IsCancellationRequested)
            {
                await running.DisposeAsync().ConfigureAwait(false);
                throw new OperationCanceledException($"Starting the sandbox for '{spec.Program}' was cancelled; it has been killed.", cancellationToken);
            }
            return running;
        }
        finally
        {
            if (!started && limits.Cgroup is { } unused)
                await unused.DestroyAsync(CancellationToken.None).ConfigureAwait(false);
            foreach (var end in childEnds) end.Dispose();
            stdinHost?.Dispose();
            stdoutHost?.Dispose();
            stderrHost?.Dispose();
            reportHost?.Dispose();
        }

        int Pipe(int childEnd, ref SafeFileHandle? hostEnd)
        {
            var (read, write) = _syscalls.CreatePipe();
            var child = childEnd == 0 ? read : write;
            hostEnd = childEnd == 0 ? write : read;
            childEnds.Add(child);
            return (int)child.DangerousGetHandle();
        }
    }

    private static Stream ToStream(ref SafeFileHandle? handle, PipeDirection direction)
    {
        if (handle is null) return Stream.Null;
        nint fd = handle.DangerousGetHandle();
        handle.SetHandleAsInvalid();
        handle = null;
        return new AnonymousPipeClientStream(direction, new SafePipeHandle(fd, ownsHandle: true));
    }

    private static async Task<CapturedOutput> CaptureAsync(Stream stream, long limit, Action? exceeded)
    {
        var kept = new MemoryStream();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        long total = 0;
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                long room = Math.Max(0, limit - kept.Length);
                if (room > 0) kept.Write(buffer, 0, (int)Math.Min(room, n));
                total += n;
                if (total > limit) exceeded?.Invoke();
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        return new CapturedOutput(kept.GetBuffer().AsMemory(0, (int)kept.Length), total);
    }

    private static async Task FeedAsync(Stream stdin, ReadOnlyMemory<byte> input)
    {
        try
        {
            await stdin.WriteAsync(input).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The program exited (or closed its stdin) without reading everything: that is its business.
        }
        finally
        {
            await stdin.DisposeAsync().ConfigureAwait(false);
        }
    }

    private SafeFileHandle OpenInit(string path)
    {
        if (!File.Exists(path))
            throw new SandboxException(
                $"The sandbox-init executable is missing at '{path}'. It is built from src/native by `dotnet build`; " +
                "if Sandbox was copied without it, copy sandbox-init and libsandbox_launcher.so next to Sandbox.dll.");
        return _syscalls.OpenExecutable(path);
    }
}
