using System.CommandLine;
using System.Text.Json;
using Sandbox.Launch;

namespace Sandbox.Cli;

/// <summary><c>sandbox run [options] -- CMD [ARGS...]</c>: runs a command in a sandbox with the terminal's stdio.</summary>
internal static class RunCommand
{
    private const int ENOENT = 2, EACCES = 13;

    public static Command Create()
    {
        var hostname = new Option<string?>("--hostname") { Description = "Hostname inside the sandbox (default: sandbox)." };
        var env = new Option<string[]>("--env", "-e") { Description = "Set an environment variable K=V (repeatable); nothing is inherited.", AllowMultipleArgumentsPerToken = false };
        var workdir = new Option<string?>("--workdir", "-w") { Description = "Working directory inside the sandbox (default: /)." };
        var roBind = new Option<string[]>("--ro-bind") { Description = "Bind a host path read-only: SRC[:DST] (repeatable)." };
        var bind = new Option<string[]>("--bind") { Description = "Bind a host path read-write: SRC[:DST] (repeatable)." };
        var tmpfs = new Option<string[]>("--tmpfs") { Description = "Mount a tmpfs: DST[:SIZE] (repeatable; default size 64m)." };
        var tmpSize = new Option<string?>("--tmp-size") { Description = "Size cap of /tmp (default 64m)." };
        var wallTime = new Option<string?>("--wall-time") { Description = "Wall-clock limit, e.g. 2s, 500ms, 1m; the whole sandbox is killed when it passes." };
        var shareNet = new Option<bool>("--share-net") { Description = "Share the host's network (opt out of the loopback-only network namespace)." };
        var writableRoot = new Option<bool>("--writable-root") { Description = "Keep the root tmpfs writable (opt out of the read-only root)." };
        var user = new Option<string?>("--user") { Description = "UID[:GID] of the program inside the sandbox (default 1000:1000)." };
        var memory = new Option<string?>("--memory") { Description = "Memory limit, e.g. 64m (cgroup; swap off)." };
        var pids = new Option<long?>("--pids") { Description = "Limit on processes and threads (cgroup pids.max)." };
        var cpuTime = new Option<string?>("--cpu-time") { Description = "CPU-time limit over all threads and processes, e.g. 1s." };
        var cpus = new Option<double?>("--cpus") { Description = "CPU bandwidth in CPUs, e.g. 0.5." };
        var fileSize = new Option<string?>("--file-size") { Description = "Largest file the program may write (RLIMIT_FSIZE), e.g. 10m." };
        var cpuset = new Option<string?>("--cpuset") { Description = "CPUs the sandbox may run on, as a list such as 0 or 0-1,3 (cgroup cpuset.cpus)." };
        var ioLimit = new Option<string[]>("--io-limit")
        {
            Description = "Block I/O limit on a whole disk: DEV:KEY=VALUE[,...] with DEV as MAJ:MIN or a device path and keys " +
                "rbps, wbps (bytes per second, e.g. 1m = 1 MiB/s), riops, wiops (operations per second); e.g. 254:0:wbps=1m,riops=100 " +
                "(repeatable, one per disk; cgroup v2 io.max, v1 blkio throttling, which catches direct I/O only).",
        };
        var outputLimit = new Option<string?>("--output-limit")
        {
            Description = "Cap stdout and stderr at SIZE each, e.g. 1m: the CLI passes the program's output through, counting it, " +
                "and kills the sandbox when a stream goes past the cap, after writing exactly SIZE bytes of it (exit 137, " +
                "outcome outputLimitExceeded). stdin stays the terminal's own.",
        };
        var noCgroup = new Option<bool>("--no-cgroup")
        {
            Description = "Opt out of the sandbox's own cgroup (by default it has one wherever the host can make one, held to " +
                $"{SandboxSpec.DefaultProcessLimit} processes, with CPU time and peak memory from the kernel's accounting); refused with " +
                "--memory, --pids, --cpu-time, --cpus, --cpuset or --io-limit.",
        };
        var rlimitFallback = new Option<bool>("--rlimit-fallback") { Description = "Where cgroups are unavailable, enforce memory and CPU time with rlimits instead of failing." };
        var seccomp = new Option<string?>("--seccomp")
        {
            Description = "The seccomp policy: default (the default: refuses mount, ptrace, bpf, namespaces, kernel modules and " +
                "the like), judge (also no sockets and no new processes; threads work), unconfined (no filter), or the path of " +
                "a Docker seccomp profile (JSON). A program the filter kills exits 159 (128 + SIGSYS), outcome seccompViolation.",
        };
        var image = new Option<string?>("--image")
        {
            Description = "Run on an imported image's root file system (an overlay of its layers; writes go to a throw-away " +
                "layer, kept only with --writable-root, and vanish with the sandbox). Without a command, the image's own " +
                "Entrypoint and Cmd run; its Env, WorkingDir and User apply unless options say otherwise.",
        };
        var commit = new Option<string?>("--commit")
        {
            Description = "With --image: keep the sandbox's writes in a layer on disk (the root is writable) and, when the command " +
                "exits 0, store the image plus that layer as NEWREF (its digest is printed on stderr); otherwise discard them.",
        };
        var store = new Option<string?>("--store") { Description = $"The image store's directory (default: ${ImageOption.StoreVariable}, then the user's default store)." };
        var resultJson = new Option<string?>("--result-json") { Description = "Write the result as JSON to this file." };
        var command = new Argument<string[]>("command") { Description = "The command and its arguments (after --).", Arity = ArgumentArity.ZeroOrMore };

        var run = new Command("run",
            "Run a command in a sandbox on the default root file system, with the terminal's stdio (or, with --output-limit, " +
            "stdout and stderr passed through and counted). Exits with the command's status; 128+N when a signal N ended it, " +
            "so 137 (SIGKILL) when a limit killed the sandbox (wall time, CPU time, memory, output); 2 for bad options, " +
            "159 (SIGSYS) when the seccomp filter killed it, 125 when the sandbox could not be set up, 126/127 when the command " +
            "could not be executed/found.")
        {
            hostname, env, workdir, roBind, bind, tmpfs, tmpSize, wallTime, shareNet, writableRoot, user,
            memory, pids, cpuTime, cpus, cpuset, ioLimit, fileSize, outputLimit, noCgroup, rlimitFallback, seccomp, image, commit, store, resultJson, command,
        };

        run.SetAction(async (parse, cancellationToken) =>
        {
            var problems = new List<string>();
            var argv = parse.GetValue(command) ?? [];
            if (argv.Length > 0 && argv[0].StartsWith('-'))
                return Fail(ExitCodes.Usage, [$"unknown option '{argv[0]}' (the command goes after --; see 'sandbox run --help')."]);
            Images.Store.ImageLease? lease = null;
            SandboxSpec spec;
            if (parse.GetValue(image) is { } imageReference)
            {
                try
                {
                    (var imageSpec, lease, string? imageProblem) = ImageOption.Open(imageReference, parse.GetValue(store), argv);
                    if (imageSpec is null) return Fail(ExitCodes.Usage, [imageProblem!]);
                    spec = imageSpec;
                }
                catch (SandboxException e)
                {
                    return Fail(ExitCodes.SetupFailed, [e.Message]);
                }
            }
            else if (argv.Length == 0)
                return Fail(ExitCodes.Usage, ["no command: give it after -- (or run an image's own command with --image)."]);
            else
                spec = SandboxSpec.Command(argv[0], argv.Skip(1));
            using var heldImage = lease;
            CommitOption? committer = null;
            if (parse.GetValue(commit) is { } newReference)
            {
                if (lease is null) return Fail(ExitCodes.Usage, ["--commit needs --image: it commits the writes made over an image."]);
                try
                {
                    (committer, string? commitProblem) = CommitOption.Prepare(newReference, parse.GetValue(store), lease);
                    if (committer is null) return Fail(ExitCodes.Usage, [commitProblem!]);
                }
                catch (SandboxException e)
                {
                    return Fail(ExitCodes.SetupFailed, [e.Message]);
                }
            }
            using var heldLayer = committer;
            if (parse.GetValue(outputLimit) is { } ol)
            {
                // The program keeps the terminal's stdin; its output comes through pipes the library counts and forwards.
                if (ValueParsers.TryParseSize(ol, out long cap))
                    spec = spec.WithInheritedStandardInput()
                        .WithOutputForwarding(UnbufferedStream(1), UnbufferedStream(2))
                        .WithOutputLimit(cap, killWhenExceeded: true);
                else
                    problems.Add($"--output-limit '{ol}' is not a size (e.g. 1m).");
            }
            else
            {
                spec = spec.WithInheritedStandardStreams();
            }

            if (parse.GetValue(hostname) is { } h) spec = spec.WithHostname(h);
            if (parse.GetValue(workdir) is { } w) spec = spec.WithWorkingDirectory(w);
            foreach (var kv in parse.GetValue(env) ?? [])
            {
                int eq = kv.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0) problems.Add($"--env '{kv}' is not K=V.");
                else spec = spec.WithEnvironmentVariable(kv[..eq], kv[(eq + 1)..]);
            }
            foreach (var b in parse.GetValue(roBind) ?? [])
            {
                var (src, dst) = ValueParsers.ParseBind(b);
                spec = spec.AddReadOnlyBind(Path.GetFullPath(src), dst);
            }
            foreach (var b in parse.GetValue(bind) ?? [])
            {
                var (src, dst) = ValueParsers.ParseBind(b);
                spec = spec.AddWritableBind(Path.GetFullPath(src), dst);
            }
            foreach (var t in parse.GetValue(tmpfs) ?? [])
            {
                var (dst, size) = ValueParsers.ParseBind(t);
                long bytes = 64L << 20;
                if (dst != t && !ValueParsers.TryParseSize(size, out bytes)) problems.Add($"--tmpfs '{t}': '{size}' is not a size (e.g. 64m).");
                else spec = spec.AddTmpfs(dst, bytes);
            }
            if (parse.GetValue(tmpSize) is { } ts)
            {
                if (ValueParsers.TryParseSize(ts, out long bytes)) spec = spec.WithTmpSize(bytes);
                else problems.Add($"--tmp-size '{ts}' is not a size (e.g. 64m).");
            }
            if (parse.GetValue(wallTime) is { } wt)
            {
                if (ValueParsers.TryParseDuration(wt, out var limit)) spec = spec.WithWallTimeLimit(limit);
                else problems.Add($"--wall-time '{wt}' is not a duration (e.g. 2s, 500ms, 1m).");
            }
            if (parse.GetValue(memory) is { } m)
            {
                if (ValueParsers.TryParseSize(m, out long bytes)) spec = spec.WithMemoryLimit(bytes);
                else problems.Add($"--memory '{m}' is not a size (e.g. 64m).");
            }
            if (parse.GetValue(pids) is { } p) spec = spec.WithProcessLimit(p);
            if (parse.GetValue(cpuTime) is { } ct)
            {
                if (ValueParsers.TryParseDuration(ct, out var limit)) spec = spec.WithCpuTimeLimit(limit);
                else problems.Add($"--cpu-time '{ct}' is not a duration (e.g. 1s, 500ms).");
            }
            if (parse.GetValue(cpus) is { } c) spec = spec.WithCpuQuota(c);
            if (parse.GetValue(cpuset) is { } cs) spec = spec.WithCpuSet(cs.Trim());
            foreach (var io in parse.GetValue(ioLimit) ?? [])
            {
                if (ValueParsers.TryParseIoLimit(io, out var limit, out string? problem)) spec = spec.AddIoLimit(limit);
                else problems.Add(problem);
            }
            if (parse.GetValue(fileSize) is { } fs)
            {
                if (ValueParsers.TryParseSize(fs, out long bytes)) spec = spec.WithFileSizeLimit((ulong)bytes);
                else problems.Add($"--file-size '{fs}' is not a size (e.g. 10m).");
            }
            if (parse.GetValue(rlimitFallback)) spec = spec.WithRlimitFallback();
            if (parse.GetValue(noCgroup)) spec = spec.WithoutOwnCgroup();
            string seccompName = SeccompOption.DefaultName;
            if (parse.GetValue(seccomp) is { } sc)
            {
                if (SeccompOption.TryResolve(sc, out var policy, out var name, out var seccompProblems))
                {
                    spec = spec.WithSeccomp(policy);
                    seccompName = name;
                }
                else
                {
                    problems.AddRange(seccompProblems);
                }
            }
            if (parse.GetValue(shareNet)) spec = spec.WithSharedNetwork();
            if (parse.GetValue(writableRoot)) spec = spec.WithWritableRoot();
            if (committer is not null) spec = committer.Apply(spec);
            if (parse.GetValue(user) is { } u)
            {
                var parts = u.Split(':');
                if (parts.Length is 1 or 2 && uint.TryParse(parts[0], out uint uid) && (parts.Length == 1 || uint.TryParse(parts[1], out _)))
                    spec = spec.WithUser(uid, parts.Length == 2 ? uint.Parse(parts[1]) : uid);
                else problems.Add($"--user '{u}' is not UID[:GID].");
            }

            if (problems.Count > 0)
            {
                // Report what is wrong with the rest too, at once (the library checks it again when it runs).
                problems.AddRange(spec.Validate(hostIsRoot: Environment.IsPrivilegedProcess));
                return Fail(ExitCodes.Usage, problems);
            }

            try
            {
                var result = await SandboxRunner.Shared.RunAsync(spec, cancellationToken);
                if (parse.GetValue(resultJson) is { } path)
                    await File.WriteAllTextAsync(path, JsonSerializer.Serialize(ResultJson.From(result, seccompName), ResultJson.Options), CancellationToken.None);
                if (result.Outcome == SandboxOutcome.TimedOut)
                    Console.Error.WriteLine($"sandbox: wall-time limit of {spec.WallTimeLimit} exceeded; the sandbox was killed.");
                else if (result.Outcome == SandboxOutcome.CpuTimeLimitExceeded)
                    Console.Error.WriteLine($"sandbox: CPU-time limit of {spec.CpuTimeLimit} exceeded; the sandbox was killed.");
                else if (result.Outcome == SandboxOutcome.MemoryLimitExceeded)
                    Console.Error.WriteLine($"sandbox: memory limit of {spec.MemoryLimitBytes} bytes exceeded; the OOM killer ended it.");
                else if (result.Outcome == SandboxOutcome.OutputLimitExceeded)
                    Console.Error.WriteLine($"sandbox: output limit of {spec.OutputLimitBytes} bytes exceeded on " +
                        $"{(result.StandardOutput.TotalBytes > spec.OutputLimitBytes ? "stdout" : "stderr")}; the sandbox was killed.");
                else if (result.Outcome == SandboxOutcome.SeccompViolation)
                    Console.Error.WriteLine($"sandbox: {SeccompOption.DescribeViolation(seccompName, result.SeccompViolation)}");
                if (committer is not null && !await committer.FinishAsync(result, cancellationToken))
                    return ExitCodes.SetupFailed;
                return result.ShellExitCode;
            }
            catch (SandboxValidationException e)
            {
                return Fail(ExitCodes.Usage, e.Problems);
            }
            catch (SandboxSetupException e)
            {
                Console.Error.WriteLine($"sandbox: {e.Message}");
                return e.Stage == SetupStage.ExecPayload
                    ? e.Errno == ENOENT ? ExitCodes.NotFound : e.Errno == EACCES ? ExitCodes.CannotExecute : ExitCodes.SetupFailed
                    : ExitCodes.SetupFailed;
            }
            catch (SandboxException e)
            {
                Console.Error.WriteLine($"sandbox: {e.Message}");
                return ExitCodes.SetupFailed;
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("sandbox: interrupted; the sandbox was killed.");
                return 130;
            }
        });
        return run;
    }

    /// <summary>
    /// fd 1 or 2 as an unbuffered stream that writes with write(2). Onto a pipe, socket or terminal, a FileStream, which
    /// reports EPIPE (Console's streams swallow it): when the reader of the CLI's output goes away, the library closes the
    /// program's pipe too, and the program gets SIGPIPE as if it wrote there itself. Onto a file, Console's stream: a
    /// FileStream would write at positions of its own (pwrite), and stdout and stderr redirected to one file would overwrite
    /// each other; write(2) shares the file offset with everyone else writing there, as the program itself would.
    /// </summary>
    private static Stream UnbufferedStream(int fd)
    {
        var file = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: false), FileAccess.Write, bufferSize: 0);
        if (!file.CanSeek)
            return file;
        file.Dispose();
        return fd == 1 ? Console.OpenStandardOutput() : Console.OpenStandardError();
    }

    private static int Fail(int code, IEnumerable<string> problems)
    {
        foreach (var p in problems)
            Console.Error.WriteLine($"sandbox: {p}");
        return code;
    }
}
