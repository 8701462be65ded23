using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

/// <summary>
/// The host holds each sandbox's mount namespace from the clone until the run has been reported, so the kernel
/// tears the namespace down when the host lets go of it rather than inside init's exit; it must be the
/// sandbox's own namespace, and it must be let go of once the run is over, however it ended.
/// </summary>
public sealed class MountNamespaceReleaseTests
{
    [Fact(Timeout = 60_000)]
    public async Task The_host_holds_the_sandboxs_own_mount_namespace_while_it_runs()
    {
        await using var running = await Probe.Command("sleep", "30").StartAsync();

        var held = running.HeldMountNamespace;
        Assert.NotNull(held);
        string heldNamespace = new FileInfo($"/proc/self/fd/{held.DangerousGetHandle()}").LinkTarget!;
        Assert.Equal(new FileInfo($"/proc/{running.Pid}/ns/mnt").LinkTarget, heldNamespace);
        Assert.NotEqual(new FileInfo("/proc/self/ns/mnt").LinkTarget, heldNamespace);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_mount_namespace_is_let_go_of_once_the_run_is_reported()
    {
        await using var running = await Probe.Command("exit", "3").StartAsync();
        var held = running.HeldMountNamespace;
        Assert.NotNull(held);

        var result = await running.WaitAsync();

        Assert.Equal(3, result.ExitCode);
        Assert.Null(running.HeldMountNamespace);
        Assert.True(SandboxRunner.Shared.Cleanup.WaitUntilIdle(TimeSpan.FromSeconds(20)));
        Assert.True(held.IsClosed);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_killed_sandboxs_mount_namespace_is_let_go_of_when_it_is_disposed()
    {
        var running = await Probe.Command("sleep", "30").StartAsync();
        var held = running.HeldMountNamespace!;

        await running.DisposeAsync();

        Assert.True(SandboxRunner.Shared.Cleanup.WaitUntilIdle(TimeSpan.FromSeconds(20)));
        Assert.True(held.IsClosed);
    }
}
