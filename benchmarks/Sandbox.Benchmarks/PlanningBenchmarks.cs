using BenchmarkDotNet.Attributes;
using Sandbox.Interop;
using Sandbox.Launch;

namespace Sandbox.Benchmarks;

/// <summary>The host-side work before the clone: validating the default spec, planning it, and serializing the plan.</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
[BenchmarkCategory("Planning")]
public class PlanningBenchmarks
{
    private readonly SandboxSpec _spec = SandboxSpec.Command(PeerCommands.Payload);
    private readonly uint _euid = LinuxSyscalls.Instance.EffectiveUserId;
    private readonly uint _egid = LinuxSyscalls.Instance.EffectiveGroupId;
    private LaunchPlan _plan = new();

    [GlobalSetup]
    public void Setup() =>
        // The fds are what the runner fills in just before writing; their values do not change the size.
        _plan = new LaunchPlanner(LinuxSyscalls.Instance).Plan(_spec, _euid, _egid).Plan with
        {
            StdoutFd = 10, StderrFd = 11, ReportFd = 12, InitFd = 13,
        };

    [Benchmark(Baseline = true, Description = "PlanWriter.Write default plan")]
    public byte[] WritePlan() => PlanWriter.Write(_plan);

    [Benchmark(Description = "LaunchPlanner.Plan default spec")]
    public object PlanSpec() => new LaunchPlanner(LinuxSyscalls.Instance).Plan(_spec, _euid, _egid).Plan;

    [Benchmark(Description = "SandboxSpec.Validate default spec")]
    public int ValidateSpec() => _spec.Validate(hostIsRoot: _euid == 0).Count;
}
