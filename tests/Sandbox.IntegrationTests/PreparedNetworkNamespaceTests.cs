using System.Runtime.InteropServices;
using Sandbox.Interop;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

/// <summary>
/// A root host makes network namespaces ahead of time and a launch enters a ready one instead of creating its
/// own: the sandbox must see the same thing either way (only lo, up and working, a namespace of its own), and
/// each prepared namespace serves exactly one sandbox.
/// </summary>
public sealed partial class PreparedNetworkNamespaceTests : IDisposable
{
    private readonly List<SandboxRunner> _runners = [];

    public void Dispose()
    {
        foreach (var runner in _runners)
        {
            runner.NetworkNamespaces?.Dispose();
            // Its cgroups made ahead of time, too: the leak checks would find them.
            runner.SandboxCgroups.Dispose();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_sandbox_launched_from_a_full_pool_enters_a_prepared_namespace_owned_by_the_host()
    {
        var runner = NewRunner();
        Assert.True(runner.NetworkNamespaces!.WaitUntilFull(TimeSpan.FromSeconds(20)), runner.NetworkNamespaces.DisabledBecause);

        await using var running = await runner.StartAsync(Probe.Command("sleep", "30"));

        Assert.Equal(HostUserNamespace(), OwnerOfNetworkNamespace(running.Pid));
        Assert.NotEqual(HostNetworkNamespace(), NetworkNamespaceOf(running.Pid));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_sandbox_launched_before_any_namespace_is_ready_creates_its_own_in_its_user_namespace()
    {
        var runner = NewRunner();

        await using var running = await runner.StartAsync(Probe.Command("sleep", "30"));

        Assert.NotEqual(HostUserNamespace(), OwnerOfNetworkNamespace(running.Pid));
        Assert.Equal(Link($"/proc/{running.Pid}/ns/user"), OwnerOfNetworkNamespace(running.Pid));
    }

    [Fact(Timeout = 60_000)]
    public async Task Sandboxes_from_the_pool_each_get_a_fresh_namespace_with_a_working_loopback_they_cannot_take_down()
    {
        var runner = NewRunner();
        Assert.True(runner.NetworkNamespaces!.WaitUntilFull(TimeSpan.FromSeconds(20)), runner.NetworkNamespaces.DisabledBecause);
        for (int i = 0; i < runner.NetworkNamespaces.Capacity + 2; i++)
        {
            var result = (await runner.RunAsync(Probe.Command("network"))).EnsureSuccess();
            var values = result.StandardOutput.Values();
            Assert.Equal("ok", values["loopback"]);
            Assert.Equal("EPERM", values["lo-down"]);
            Assert.Equal(NetworkIsolation.LoopbackOnly, result.Isolation.Network);
            Assert.NotEqual(HostNetworkNamespace(), values["netns"]);
        }

        // Alive at the same time (a freed namespace's number may be given to a later one), no two share one.
        var running = new List<RunningSandbox>();
        try
        {
            for (int i = 0; i < runner.NetworkNamespaces.Capacity + 2; i++)
                running.Add(await runner.StartAsync(Probe.Command("sleep", "30")));
            var namespaces = running.Select(r => NetworkNamespaceOf(r.Pid)).ToList();
            Assert.Equal(namespaces.Count, namespaces.Distinct(StringComparer.Ordinal).Count());
            Assert.DoesNotContain(HostNetworkNamespace(), namespaces);
        }
        finally
        {
            foreach (var r in running)
                await r.DisposeAsync();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_shared_network_takes_nothing_from_the_pool()
    {
        var runner = NewRunner();
        Assert.True(runner.NetworkNamespaces!.WaitUntilFull(TimeSpan.FromSeconds(20)), runner.NetworkNamespaces.DisabledBecause);

        var result = (await runner.RunAsync(Probe.Command("network").WithSharedNetwork())).EnsureSuccess();

        Assert.Equal(HostNetworkNamespace(), result.StandardOutput.Values()["netns"]);
        Assert.Equal(runner.NetworkNamespaces.Capacity, runner.NetworkNamespaces.ReadyCount);
    }

    private SandboxRunner NewRunner()
    {
        Assert.Equal(0u, LinuxSyscalls.Instance.EffectiveUserId);
        var runner = new SandboxRunner(LinuxSyscalls.Instance, LinuxSyscalls.Instance);
        _runners.Add(runner);
        return runner;
    }

    private static string HostUserNamespace() => Link("/proc/self/ns/user");

    private static string HostNetworkNamespace() => Link("/proc/self/ns/net");

    private static string NetworkNamespaceOf(int pid) => Link($"/proc/{pid}/ns/net");

    private static string Link(string path) => new FileInfo(path).LinkTarget!;

    /// <summary>The user namespace that owns a process's network namespace (ioctl NS_GET_USERNS).</summary>
    private static string OwnerOfNetworkNamespace(int pid)
    {
        using var ns = File.OpenHandle($"/proc/{pid}/ns/net");
        int owner = Ioctl((int)ns.DangerousGetHandle(), NsGetUserns);
        Assert.True(owner >= 0, $"NS_GET_USERNS failed: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            return Link($"/proc/self/fd/{owner}");
        }
        finally
        {
            Close(owner);
        }
    }

    private const nuint NsGetUserns = 0xb701;  // _IO(0xb7, 0x1), linux/nsfs.h

    [LibraryImport("libc.so.6", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, nuint request);

    [LibraryImport("libc.so.6", EntryPoint = "close")]
    private static partial int Close(int fd);
}
