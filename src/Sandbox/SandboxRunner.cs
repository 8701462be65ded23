using System.Collections.Immutable;
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
    private readonly Namespaces.PreparedNetworkNamespaces? _networkNamespaces;
    private readonly Namespaces.IdmappedLayers _idmappedLayers;
    private readonly RootFs.RootTemplates? _rootTemplates;
    private readonly LaunchActivity _launches = new();
    private readonly DeferredCleanup _cleanup;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Seccomp.SeccompPolicy, SafeFileHandle> _seccompPrograms = new();

    /// <param name="syscalls">The kernel.</param>
    /// <param name="fileSystem">The host's file system, as the planner sees it.</param>
    /// <param name="initExecutablePath">sandbox-init (default: next to this assembly).</param>
    /// <param name="cgroups">Sandbox cgroups (default: the detected layout, on the real cgroup file system).</param>
    /// <param name="prepareLauncherThread">Run first on the launcher thread when it starts (tests: a seccomp filter there).</param>
    /// <param name="idmappedLayers">Root's image layers idmapped for user-namespace runs (default: kept for <see cref="Namespaces.IdmappedLayers.DefaultIdleTimeout"/> after the last sandbox).</param>
    internal SandboxRunner(
        ISyscalls syscalls, IHostFileSystem fileSystem, string? initExecutablePath = null,
        Cgroups.SandboxCgroups? cgroups = null, Action? prepareLauncherThread = null, Namespaces.IdmappedLayers? idmappedLayers = null)
    {
        _syscalls = syscalls;
        _fileSystem = fileSystem;
        _cleanup = new DeferredCleanup(_launches);
        _launcher = new Lazy<LauncherThread>(() => new LauncherThread(syscalls, prepareLauncherThread));
        _exitWatcher = new Lazy<PidfdExitWatcher>(() => new PidfdExitWatcher());
        _init = new Lazy<SafeFileHandle>(() => OpenInit(initExecutablePath ?? InitExecutablePath));
        _cgroups = cgroups ?? new Cgroups.SandboxCgroups(Cgroups.CgroupFileSystem.Instance, syscalls.EffectiveUserId,
            launches: _launches);
        // Only root may make network namespaces outside a user namespace of its own.
        _networkNamespaces = syscalls.EffectiveUserId == 0 ? new Namespaces.PreparedNetworkNamespaces(syscalls) : null;
        _idmappedLayers = idmappedLayers ?? new Namespaces.IdmappedLayers(syscalls);
        _rootTemplates = new RootFs.RootTemplates(syscalls);
        // A short-lived host (the CLI) exits right after its run: its sandbox's cgroup is removed before it goes.
        // The cgroups made ahead of time go too.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            _cleanup.WaitUntilIdle(TimeSpan.FromSeconds(5));
            _cgroups.Dispose();
        };
    }

    /// <summary>The runner every <see cref="SandboxSpec.RunAsync"/> and <see cref="SandboxSpec.StartAsync"/> uses.</summary>
    public static SandboxRunner Shared => LazyShared.Value;

    /// <summary>The sandbox-init executable, built from src/native next to this assembly.</summary>
    public static string InitExecutablePath =>
        Path.Combine(Path.GetDirectoryName(typeof(SandboxRunner).Assembly.Location) is { Length: > 0 } dir ? dir : AppContext.BaseDirectory, "sandbox-init");

    internal ISyscalls Syscalls => _syscalls;

    internal PidfdExitWatcher ExitWatcher => _exitWatcher.Value;

    /// <summary>The runner's cgroups: detection, the ones made ahead of time, each sandbox's.</summary>
    internal Cgroups.SandboxCgroups SandboxCgroups => _cgroups;

    /// <summary>The clean-up after runs that no result waits for: dead sandboxes' mount namespaces and cgroups.</summary>
    internal DeferredCleanup Cleanup => _cleanup;

    /// <summary>The root templates made for this runner's plans.</summary>
    internal RootFs.RootTemplates? RootTemplates => _rootTemplates;

    /// <summary>Root's image layers idmapped for the sandboxes that run on them in a user namespace.</summary>
    internal Namespaces.IdmappedLayers IdmappedLayers => _idmappedLayers;

    /// <summary>The network namespaces made ahead of time (root hosts only), or null.</summary>
    internal Namespaces.PreparedNetworkNamespaces? NetworkNamespaces => _networkNamespaces;

    /// <summary>Runs <paramref name="spec"/> to completion, capturing its output up to the spec's limit.</summary>
    /// <param name="spec">What to run.</param>
    /// <param name="cancellationToken">Cancelling kills the whole sandbox and throws <see cref="OperationCanceledException"/>.</param>
    public async Task<SandboxResult> RunAsync(SandboxSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        await using var running = await StartCoreAsync(spec, stdinPipe: spec.StandardInput is not null, cancellationToken).ConfigureAwait(false);
        Action? exceeded = spec.KillOnOutputLimit ? running.KillForOutputLimit : null;
        // One stream for both (2>&1): its writes are taken in turns, whole chunks each.
        // Not disposed: a pump may still hold it after a cancelled wait, and without AvailableWaitHandle it holds nothing to free.
        var sharedTarget = spec.StandardOutputForwarding is { } o && ReferenceEquals(o, spec.StandardErrorForwarding) ? new SemaphoreSlim(1) : null;
        var stdout = spec.StandardOutputForwarding is { } stdoutTarget
            ? OutputPump.ForwardAsync(running.StandardOutput, stdoutTarget, spec.OutputLimitBytes, exceeded, sharedTarget)
            : OutputPump.CaptureAsync(running.StandardOutput, spec.OutputLimitBytes, exceeded);
        var stderr = spec.StandardErrorForwarding is { } stderrTarget
            ? OutputPump.ForwardAsync(running.StandardError, stderrTarget, spec.OutputLimitBytes, exceeded, sharedTarget)
            : OutputPump.CaptureAsync(running.StandardError, spec.OutputLimitBytes, exceeded);
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
        var problems = new List<string>(spec.Validate(hostIsRoot: euid == 0));
        problems.AddRange(_cgroups.HostProblems(spec));
        if (problems.Count > 0)
            throw new SandboxValidationException(problems);
        var (plan, isolation) = new LaunchPlanner(_fileSystem).Plan(spec, euid, _syscalls.EffectiveGroupId);
        if (spec.ImageSetupDirectory is { } setup && spec.Image is { } image)
            RootFs.ImageSetupDirectory.Prepare(setup, RootFs.RootFsPlanner.ImageRuntimeFiles(spec, _fileSystem), image.LowerDirectories,
                RootFs.RootFsPlanner.MountTargets(spec, _fileSystem), isolation.User, isolation.HostUser);
        var limits = _cgroups.Assign(spec);
        // Every cgroup.procs as an fd the host opened (a cgroup made ahead of time has them already): the child's join is a
        // write, and the child can be cloned from inside a root template's namespace, where no host path is in reach.
        if (limits.Cgroup is { ProcsFiles.Count: > 0 } made && made.JoinFiles.Count != made.ProcsFiles.Count)
        {
            try
            {
                made.OpenJoinFiles();
            }
            catch (Cgroups.CgroupException)
            {
                // The child opens the paths, as it would without this (and reports the error where it happens).
            }
        }
        plan = plan with
        {
            ResourceLimits = plan.ResourceLimits.AddRange(limits.ResourceLimits),
            CgroupProcsFiles = limits.Cgroup is { } cgroup ? [.. cgroup.ProcsFiles] : [],
            // A cgroup made ahead of time has its cgroup.procs open already: the child's join is a write per hierarchy.
            CgroupProcsFds = limits.Cgroup is { JoinFiles: { Count: > 0 } joinFiles } joined && joinFiles.Count == joined.ProcsFiles.Count
                ? [.. joinFiles.Select(f => (int)f.DangerousGetHandle())] : [],
        };

        // The seccomp program, compiled once per policy and kept in one sealed memfd per policy that every
        // launch hands to init (fd 5).
        if (!spec.Seccomp.IsUnconfined)
        {
            var compiled = Seccomp.CompiledSeccompFilters.For(spec.Seccomp, Seccomp.SeccompArchitectures.Native!.Value);
            var program = _seccompPrograms.GetValue(spec.Seccomp, _ => _syscalls.CreateSealedMemoryFile("sandbox-seccomp", compiled.Program));
            plan = plan with { SeccompFd = (int)program.DangerousGetHandle() };
            isolation = isolation with { Seccomp = spec.Seccomp, SeccompInstructions = compiled.Program.Length / 8 };
        }

        // A network namespace made ahead of time, when one is ready: the clone then skips the dearest namespace.
        SafeFileHandle? preparedNetwork = null;
        if ((plan.CloneFlags & Namespaces.CloneFlags.NewNet) != 0 && _networkNamespaces?.TryTake() is { } ready)
        {
            preparedNetwork = ready;
            plan = plan with
            {
                CloneFlags = plan.CloneFlags & ~Namespaces.CloneFlags.NewNet,
                Flags = plan.Flags & ~PlanFlags.LoopbackUp,
                NetworkNamespaceFd = (int)ready.DangerousGetHandle(),
            };
        }

        // The root's fixed part from a template made once for these mounts: the child then mounts only the fresh ones.
        RootFs.RootTemplates.Lease? rootTemplate = null;
        if (_rootTemplates is not null)
        {
            (plan, rootTemplate) = _rootTemplates.Apply(plan);
            if (rootTemplate is not null)
                isolation = isolation with { RootFromTemplate = true };
        }

        var childEnds = new List<SafeFileHandle>();
        bool started = false;
        SafeFileHandle? stdinHost = null, stdoutHost = null, stderrHost = null, reportHost = null, supervisorHost = null;
        Namespaces.IdmappedLayerLease? idmappedLayers = null;
        try
        {
            // Root's image layers in a user namespace: idmapped mounts of them (made once per mapping and held while
            // a sandbox uses them), copied for this launch; the child moves the copies over the layer directories.
            if (plan.IdmapImageLayers)
            {
                idmappedLayers = _idmappedLayers.Acquire(plan.UidMap!, plan.GidMap!, spec.Image!.LowerDirectories);
                var copies = idmappedLayers.CloneForLaunch();
                childEnds.AddRange(copies);
                ImmutableArray<int> fds = [.. copies.Select(c => (int)c.DangerousGetHandle())];
                plan = plan with { Mounts = [.. plan.Mounts.Select(m => m.Kind == MountOpKind.Overlay ? m with { LayerFds = fds } : m)] };
            }

            // cgroup v2: the launcher clones the child straight into its cgroup through this fd (CLONE_INTO_CGROUP);
            // cgroup.procs stays in the plan for kernels that cannot.
            if (limits.Cgroup?.OpenDirectoryForClone() is { } cgroupDirectory)
            {
                childEnds.Add(cgroupDirectory);
                plan = plan with { CgroupFd = (int)cgroupDirectory.DangerousGetHandle() };
            }

            if (spec.SeccompSupervisor is not null && plan.SeccompFd >= 0)
            {
                var (host, sandbox) = SeccompListenerCalls.CreateSocketPair();
                supervisorHost = host;
                childEnds.Add(sandbox);
                plan = plan with { SeccompNotifyFd = (int)sandbox.DangerousGetHandle() };
            }

            int stdinFd = -1, stdoutFd, stderrFd;
            if (spec.InheritStandardStreams)
            {
                (stdinFd, stdoutFd, stderrFd) = (0, 1, 2);
            }
            else
            {
                if (spec.InheritStandardInput)
                    stdinFd = 0;
                else if (stdinPipe)
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
            NativeLaunchResult launched;
            using (_launches.Enter())
                launched = await _launcher.Value.LaunchAsync(PlanWriter.Write(plan)).ConfigureAwait(false);
            preparedNetwork?.Dispose();
            rootTemplate?.Dispose();
            foreach (var end in childEnds) end.Dispose();
            childEnds.Clear();
            if (launched.Error is { } error)
                throw SetupFailures.From(error, plan);
            isolation = CgroupJoinReport.Apply(isolation, launched);

            var running = new RunningSandbox(this, spec, isolation, limits, launched.Pid, launched.Process!, startedAt,
                ToStream(ref stdinHost, PipeDirection.Out), ToStream(ref stdoutHost, PipeDirection.In),
                ToStream(ref stderrHost, PipeDirection.In), reportHost!, launched.MountNamespace, idmappedLayers);
            reportHost = null;
            idmappedLayers = null;
            started = true;
            if (supervisorHost is not null)
            {
                running.AttachSupervisor(Seccomp.SeccompSupervisor.Start(supervisorHost, spec.SeccompSupervisor!));
                supervisorHost = null;
            }
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
            preparedNetwork?.Dispose();
            rootTemplate?.Dispose();
            foreach (var end in childEnds) end.Dispose();
            stdinHost?.Dispose();
            stdoutHost?.Dispose();
            stderrHost?.Dispose();
            reportHost?.Dispose();
            supervisorHost?.Dispose();
            idmappedLayers?.Dispose();
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
