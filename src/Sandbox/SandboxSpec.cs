using System.Collections.Immutable;
using System.Diagnostics.Contracts;

namespace Sandbox;

/// <summary>
/// What to run and how to confine it: an immutable specification. Every <c>WithX</c>/<c>AddX</c> returns a
/// changed copy; nothing is checked until <see cref="RunAsync"/> or <see cref="StartAsync"/>, which report
/// every problem at once.
/// </summary>
/// <remarks>
/// The defaults are the secure ones: every namespace, no network but loopback, a read-only root made of the
/// host's /usr, /bin, /lib, /lib64 and /sbin, a small writable /tmp, no capabilities, no_new_privs, a clean
/// environment, no core dumps. Each is relaxed only by an explicit call.
/// </remarks>
public sealed partial record SandboxSpec
{
    /// <summary>The default environment: a PATH and a HOME, nothing inherited from the host.</summary>
    public static readonly ImmutableSortedDictionary<string, string> DefaultEnvironment =
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
        {
            ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["HOME"] = "/tmp",
        });

    private SandboxSpec(string program, ImmutableArray<string> arguments)
    {
        Program = program;
        Arguments = arguments;
    }

    /// <summary>The entry point: a sandbox that will run <paramref name="program"/> with <paramref name="arguments"/>.</summary>
    /// <param name="program">An absolute path inside the sandbox, or a name looked up in the sandbox's PATH.</param>
    /// <param name="arguments">The arguments (argv[1..]).</param>
    public static SandboxSpec Command(string program, params IEnumerable<string> arguments) =>
        new(program, [.. arguments]);

    /// <summary>The program to run.</summary>
    public string Program { get; init; }

    /// <summary>Its arguments (argv[1..]).</summary>
    public ImmutableArray<string> Arguments { get; init; }

    /// <summary>The complete environment of the program; nothing is inherited from the host.</summary>
    public ImmutableSortedDictionary<string, string> Environment { get; init; } = DefaultEnvironment;

    /// <summary>The working directory inside the sandbox.</summary>
    public string WorkingDirectory { get; init; } = "/";

    /// <summary>The hostname inside the sandbox (needs the UTS namespace).</summary>
    public string Hostname { get; init; } = "sandbox";

    /// <summary>The namespaces the sandbox gets.</summary>
    public SandboxNamespaces Namespaces { get; init; } = SandboxNamespaces.All;

    /// <summary>The payload's user and group inside the sandbox.</summary>
    public SandboxIdentity User { get; init; } = SandboxIdentity.DefaultSandboxUser;

    /// <summary>
    /// When the host runs as root: the host ids the sandbox user is mapped to (a rootless host always maps its own ids;
    /// an image of root's store in a user namespace maps a block instead, <see cref="HostIdRange"/>).
    /// </summary>
    public SandboxIdentity HostIdentity { get; init; } = SandboxIdentity.Nobody;

    /// <summary>
    /// When the host is root and runs an image of root's store in a user namespace: the host ids the sandbox's ids
    /// 0..65535 map to (instead of <see cref="HostIdentity"/>), or null for root's block in /etc/subuid and
    /// /etc/subgid, else <see cref="HostIdRange.Default"/>.
    /// </summary>
    public HostIdRange? HostIdRange { get; init; }

    /// <summary>Mounts added on top of the default root, in order.</summary>
    public ImmutableArray<SandboxMount> Mounts { get; init; } = [];

    /// <summary>The size cap of the writable /tmp.</summary>
    public long TmpSizeBytes { get; init; } = 64L << 20;

    /// <summary>Whether the root file system (outside /tmp, /dev/shm and writable mounts) is read-only.</summary>
    public bool ReadOnlyRoot { get; init; } = true;

    /// <summary>The wall-clock limit; when it passes, the whole sandbox is killed and the outcome is <see cref="SandboxOutcome.TimedOut"/>.</summary>
    public TimeSpan? WallTimeLimit { get; init; }

    /// <summary>How many bytes of each output stream <see cref="RunAsync"/> keeps; the rest is read and dropped.</summary>
    public long OutputLimitBytes { get; init; } = 16L << 20;

    /// <summary>
    /// Whether writing more than <see cref="OutputLimitBytes"/> to a stream kills the sandbox (outcome
    /// <see cref="SandboxOutcome.OutputLimitExceeded"/>) instead of only truncating what is kept.
    /// </summary>
    public bool KillOnOutputLimit { get; init; }

    /// <summary>The bytes <see cref="RunAsync"/> writes to the program's standard input (none: /dev/null).</summary>
    public ReadOnlyMemory<byte>? StandardInput { get; init; }

    /// <summary>Whether the program shares the host process's own stdin, stdout and stderr instead of pipes.</summary>
    public bool InheritStandardStreams { get; init; }

    /// <summary>How long the setup (namespaces, mounts, exec) may take before it counts as hung.</summary>
    public TimeSpan SetupTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>RLIMIT_NOFILE of the program.</summary>
    public ulong OpenFilesLimit { get; init; } = 1024;

    /// <summary>Runs the sandbox to completion with captured output, on <see cref="SandboxRunner.Shared"/>.</summary>
    /// <param name="cancellationToken">Cancelling kills the whole sandbox and throws <see cref="OperationCanceledException"/>.</param>
    public Task<SandboxResult> RunAsync(CancellationToken cancellationToken = default) =>
        SandboxRunner.Shared.RunAsync(this, cancellationToken);

    /// <summary>Starts the sandbox and returns a handle with its standard streams, on <see cref="SandboxRunner.Shared"/>.</summary>
    /// <param name="cancellationToken">Cancels the start; once started, use the handle.</param>
    public Task<RunningSandbox> StartAsync(CancellationToken cancellationToken = default) =>
        SandboxRunner.Shared.StartAsync(this, cancellationToken);

    /// <summary>The arguments.</summary>
    [Pure]
    public SandboxSpec WithArguments(params IEnumerable<string> arguments) => this with { Arguments = [.. arguments] };

    /// <summary>Replaces the whole environment.</summary>
    [Pure]
    public SandboxSpec WithEnvironment(IEnumerable<KeyValuePair<string, string>> variables) =>
        this with { Environment = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, variables) };

    /// <summary>Sets one environment variable.</summary>
    [Pure]
    public SandboxSpec WithEnvironmentVariable(string name, string value) =>
        this with { Environment = Environment.SetItem(name, value) };

    /// <summary>The working directory inside the sandbox.</summary>
    [Pure]
    public SandboxSpec WithWorkingDirectory(string path) => this with { WorkingDirectory = path };

    /// <summary>The hostname inside the sandbox.</summary>
    [Pure]
    public SandboxSpec WithHostname(string hostname) => this with { Hostname = hostname };

    /// <summary>Exactly these namespaces (see <see cref="WithoutNamespaces"/> to opt out of some).</summary>
    [Pure]
    public SandboxSpec WithNamespaces(SandboxNamespaces namespaces) => this with { Namespaces = namespaces };

    /// <summary>Opts out of some namespaces, explicitly.</summary>
    [Pure]
    public SandboxSpec WithoutNamespaces(SandboxNamespaces namespaces) => this with { Namespaces = Namespaces & ~namespaces };

    /// <summary>Shares the host's network (opts out of the network namespace): the program can reach what the host can.</summary>
    [Pure]
    public SandboxSpec WithSharedNetwork() => WithoutNamespaces(SandboxNamespaces.Network);

    /// <summary>The payload's user and group inside the sandbox (default 1000:1000).</summary>
    [Pure]
    public SandboxSpec WithUser(uint uid, uint gid) => this with { User = new SandboxIdentity(uid, gid) };

    /// <summary>When the host is root: the host ids the sandbox user maps to (default nobody:nogroup).</summary>
    [Pure]
    public SandboxSpec WithHostIdentity(uint uid, uint gid) => this with { HostIdentity = new SandboxIdentity(uid, gid) };

    /// <summary>
    /// When the host is root and runs an image of root's store in a user namespace: the block of host ids the
    /// sandbox's ids 0..Count-1 map to, so the image's files keep their owners inside (see <see cref="HostIdRange"/>).
    /// </summary>
    [Pure]
    public SandboxSpec WithHostIdRange(HostIdRange range) => this with { HostIdRange = range };

    /// <summary>Binds a host path read-only at <paramref name="target"/> (default: the same path).</summary>
    [Pure]
    public SandboxSpec AddReadOnlyBind(string source, string? target = null) =>
        this with { Mounts = Mounts.Add(new BindMount(source, target ?? source, Writable: false)) };

    /// <summary>Binds a host path read-write at <paramref name="target"/> (default: the same path).</summary>
    [Pure]
    public SandboxSpec AddWritableBind(string source, string? target = null) =>
        this with { Mounts = Mounts.Add(new BindMount(source, target ?? source, Writable: true)) };

    /// <summary>Mounts an empty writable tmpfs at <paramref name="target"/>.</summary>
    [Pure]
    public SandboxSpec AddTmpfs(string target, long sizeBytes = 64L << 20) =>
        this with { Mounts = Mounts.Add(new TmpfsMount(target, sizeBytes)) };

    /// <summary>The size cap of /tmp.</summary>
    [Pure]
    public SandboxSpec WithTmpSize(long bytes) => this with { TmpSizeBytes = bytes };

    /// <summary>Opts out of the read-only root: the root tmpfs stays writable (the host binds stay read-only).</summary>
    [Pure]
    public SandboxSpec WithWritableRoot() => this with { ReadOnlyRoot = false };

    /// <summary>The wall-clock limit.</summary>
    [Pure]
    public SandboxSpec WithWallTimeLimit(TimeSpan? limit) => this with { WallTimeLimit = limit };

    /// <summary>How many bytes of each output stream to keep.</summary>
    [Pure]
    public SandboxSpec WithOutputLimit(long bytes) => this with { OutputLimitBytes = bytes };

    /// <summary>How many bytes of each output stream to keep, and whether exceeding it kills the sandbox.</summary>
    [Pure]
    public SandboxSpec WithOutputLimit(long bytes, bool killWhenExceeded) =>
        this with { OutputLimitBytes = bytes, KillOnOutputLimit = killWhenExceeded };

    /// <summary>The bytes written to standard input.</summary>
    [Pure]
    public SandboxSpec WithStandardInput(ReadOnlyMemory<byte> input) => this with { StandardInput = input };

    /// <summary>The text (UTF-8) written to standard input.</summary>
    [Pure]
    public SandboxSpec WithStandardInput(string input) => WithStandardInput(System.Text.Encoding.UTF8.GetBytes(input));

    /// <summary>Gives the program the host process's own standard streams (a terminal tool's choice).</summary>
    [Pure]
    public SandboxSpec WithInheritedStandardStreams() => this with { InheritStandardStreams = true };

    /// <summary>How long the setup may take.</summary>
    [Pure]
    public SandboxSpec WithSetupTimeout(TimeSpan timeout) => this with { SetupTimeout = timeout };

    /// <summary>RLIMIT_NOFILE of the program.</summary>
    [Pure]
    public SandboxSpec WithOpenFilesLimit(ulong limit) => this with { OpenFilesLimit = limit };
}
