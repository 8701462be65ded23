using BenchmarkDotNet.Attributes;
using Sandbox.Seccomp;
using Sandbox.Seccomp.Bpf;
using Sandbox.Seccomp.Profiles;

namespace Sandbox.Benchmarks;

/// <summary>
/// Seccomp policy work on the host: compiling the default profile (Docker-default-sized: ~300 syscalls,
/// conditions on clone, unshare, socket, personality) to BPF — the target is at most 1 ms after warm-up —,
/// the same for the Moby default profile imported from JSON, the import itself, and one filter run in the
/// user-space interpreter.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
[BenchmarkCategory("Seccomp")]
public class SeccompBenchmarks
{
    private readonly SeccompArchitecture _architecture = SeccompArchitectures.Native ?? SeccompArchitecture.X86_64;
    private string _mobyJson = "";
    private SeccompPolicy _moby = SeccompPolicy.Unconfined;
    private SeccompProgram _compiled = null!;
    private SeccompData _call;

    [GlobalSetup]
    public void Setup()
    {
        _mobyJson = File.ReadAllText(FindMobyProfile());
        _moby = DockerProfileImporter.Import(_mobyJson, new DockerProfileOptions { Architecture = _architecture }).Policy;
        _compiled = SeccompPolicy.Default.Compile(_architecture);
        _call = new SeccompData(56 /* clone on x86_64, openat on aarch64 */, _architecture, 0x003D0F00);
    }

    [Benchmark(Baseline = true, Description = "Compile Default profile")]
    public SeccompProgram CompileDefault() => SeccompPolicy.Default.Compile(_architecture);

    [Benchmark(Description = "Compile imported Moby profile")]
    public SeccompProgram CompileMoby() => _moby.Compile(_architecture);

    [Benchmark(Description = "Import Moby profile JSON")]
    public SeccompPolicy ImportMoby() => DockerProfileImporter.Import(_mobyJson, new DockerProfileOptions { Architecture = _architecture }).Policy;

    [Benchmark(Description = "Interpret Default filter, one call")]
    public uint Interpret() => BpfInterpreter.Run(_compiled.Instructions.AsSpan(), _call);

    /// <summary>shared/fixtures/seccomp/moby-default.json beside the repository, found by walking up.</summary>
    internal static string FindMobyProfile()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "fixtures", "seccomp", "moby-default.json");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"shared/fixtures/seccomp/moby-default.json was not found above {AppContext.BaseDirectory}: check out shared/ next to the repository.");
    }
}
