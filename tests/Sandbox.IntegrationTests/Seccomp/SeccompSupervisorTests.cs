using System.Buffers.Binary;
using System.Collections.Concurrent;
using Sandbox.IntegrationTests.Support;
using Sandbox.Seccomp;

namespace Sandbox.IntegrationTests.Seccomp;

/// <summary>
/// UserNotify: the policy sends connect to the host, whose supervisor reads the address from the program's memory
/// and decides each call. The probe's `network` command connects to itself over 127.0.0.1 and reports the result.
/// </summary>
public sealed class SeccompSupervisorTests
{
    private const int ECONNREFUSED = 111;
    private const ushort AfInet = 2;

    private static readonly SeccompPolicy ConnectGoesToTheHost =
        SeccompPolicy.Default.ToBuilder().Remove("connect").Notify("connect").Build();

    [Fact(Timeout = 60_000)]
    public async Task The_supervisor_sees_each_connect_with_its_address_and_a_continued_call_goes_through()
    {
        var seen = new ConcurrentQueue<(string? Name, ushort Family, string Address)>();
        var spec = Probe.Command("network").WithSeccomp(ConnectGoesToTheHost).WithSeccompSupervisor((call, _) =>
        {
            var (family, address) = ReadInetAddress(call);
            seen.Enqueue((call.SyscallName, family, address));
            return ValueTask.FromResult(address == "127.0.0.1" ? SeccompNotificationResponse.Continue : SeccompNotificationResponse.Fail(ECONNREFUSED));
        });

        var result = (await spec.RunAsync()).EnsureSuccess();

        Assert.Equal("ok", result.StandardOutput.Values()["loopback"]);
        var call = Assert.Single(seen);
        Assert.Equal(("connect", AfInet, "127.0.0.1"), call);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_refused_connect_fails_in_the_program_with_the_supervisors_errno()
    {
        int asked = 0;
        var spec = Probe.Command("network").WithSeccomp(ConnectGoesToTheHost).WithSeccompSupervisor((_, _) =>
        {
            Interlocked.Increment(ref asked);
            return ValueTask.FromResult(SeccompNotificationResponse.Fail(ECONNREFUSED));
        });

        var result = (await spec.RunAsync()).EnsureSuccess();

        Assert.Equal("ECONNREFUSED", result.StandardOutput.Values()["loopback"]);
        Assert.Equal(1, asked);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_supervisor_that_throws_refuses_the_call_rather_than_letting_it_through()
    {
        var spec = Probe.Command("network").WithSeccomp(ConnectGoesToTheHost)
            .WithSeccompSupervisor((_, _) => throw new InvalidOperationException("decider failed"));

        var result = (await spec.RunAsync()).EnsureSuccess();

        Assert.Equal("EPERM", result.StandardOutput.Values()["loopback"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task Calls_the_policy_does_not_send_never_reach_the_supervisor()
    {
        int asked = 0;
        var spec = Probe.Command("hostname").WithSeccomp(ConnectGoesToTheHost).WithSeccompSupervisor((_, _) =>
        {
            Interlocked.Increment(ref asked);
            return ValueTask.FromResult(SeccompNotificationResponse.Continue);
        });

        (await spec.RunAsync()).EnsureSuccess();

        Assert.Equal(0, asked);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_policy_that_notifies_without_a_supervisor_and_a_supervisor_without_notifications_are_both_refused()
    {
        var withoutSupervisor = await Assert.ThrowsAsync<SandboxValidationException>(() => Probe.Command("hostname").WithSeccomp(ConnectGoesToTheHost).RunAsync());
        var withoutNotifications = await Assert.ThrowsAsync<SandboxValidationException>(() =>
            Probe.Command("hostname").WithSeccompSupervisor((_, _) => ValueTask.FromResult(SeccompNotificationResponse.Continue)).RunAsync());

        Assert.Contains(withoutSupervisor.Problems, p => p.Contains("no supervisor", StringComparison.Ordinal));
        Assert.Contains(withoutNotifications.Problems, p => p.Contains("sends no call to the host", StringComparison.Ordinal));
    }

    /// <summary>connect(fd, addr, len): the sockaddr_in at addr, read from the caller's memory.</summary>
    private static (ushort Family, string Address) ReadInetAddress(SeccompNotification call)
    {
        var bytes = call.ReadMemory(call.Arguments[1], 16);
        if (bytes is null) return (0, "");
        ushort family = BinaryPrimitives.ReadUInt16LittleEndian(bytes);
        return (family, family == AfInet ? $"{bytes[4]}.{bytes[5]}.{bytes[6]}.{bytes[7]}" : "");
    }
}
