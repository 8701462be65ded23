using System.Diagnostics;
using Sandbox.Cgroups;

namespace Sandbox.Tests.Cgroups;

/// <summary>The real killer's pinned kill: a process is signalled only if the second listing still has it.</summary>
public sealed class ProcessKillerTests
{
    [Fact(Timeout = 10_000)]
    public async Task A_pinned_process_no_longer_listed_is_left_alone_and_one_still_listed_is_killed()
    {
        using var spared = Process.Start(new ProcessStartInfo("/bin/sleep", "30") { UseShellExecute = false })!;
        using var killed = Process.Start(new ProcessStartInfo("/bin/sleep", "30") { UseShellExecute = false })!;
        try
        {
            // Both were listed; by the second listing only one is (the other left the cgroup, or its pid was reused).
            ProcessKiller.Instance.KillMembers([spared.Id, killed.Id], () => [killed.Id]);

            await killed.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
            Assert.True(killed.HasExited);
            Assert.False(spared.WaitForExit(200));
        }
        finally
        {
            spared.Kill();
            killed.Kill();
        }
    }

    [Fact]
    public void Pids_that_are_already_gone_are_not_an_error()
    {
        using var gone = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!;
        gone.WaitForExit();
        ProcessKiller.Instance.KillMembers([gone.Id], () => [gone.Id]);
    }
}
