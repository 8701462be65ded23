using System.Text;
using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class RunningSandboxTests
{
    [Fact(Timeout = 60_000)]
    public async Task Standard_input_and_output_stream_while_the_program_runs()
    {
        await using var running = await Probe.Command("echo").StartAsync();
        var output = new LineReader(running.StandardOutput);

        await running.StandardInput.WriteAsync("ping\n"u8.ToArray());
        await running.StandardInput.FlushAsync();
        string first = await output.ReadLineAsync();
        await running.StandardInput.WriteAsync("pong\n"u8.ToArray());
        await running.StandardInput.FlushAsync();
        string second = await output.ReadLineAsync();
        await running.StandardInput.DisposeAsync();
        var result = await running.WaitAsync();

        Assert.Equal("echo: ping", first);
        Assert.Equal("echo: pong", second);
        Assert.Equal(SandboxOutcome.Ok, result.Outcome);
    }

    [Fact(Timeout = 60_000)]
    public async Task Standard_error_is_a_stream_of_its_own()
    {
        await using var running = await SandboxSpec.Command("/bin/sh", "-c", "echo to-out; echo to-err >&2").StartAsync();

        string stdout = await new StreamReader(running.StandardOutput, Encoding.UTF8).ReadToEndAsync();
        string stderr = await new StreamReader(running.StandardError, Encoding.UTF8).ReadToEndAsync();
        var result = await running.WaitAsync();

        Assert.Equal("to-out\n", stdout);
        Assert.Equal("to-err\n", stderr);
        Assert.Equal(SandboxOutcome.Ok, result.Outcome);
    }

    [Fact(Timeout = 60_000)]
    public async Task Disposing_a_running_sandbox_kills_every_process_in_it()
    {
        string marker = HostProcesses.NewMarker();
        var running = await Probe.Command("fork-sleepers", "2", marker).StartAsync();
        await new LineReader(running.StandardOutput).ReadLinesAsync(2);
        var hostPids = HostProcesses.WithMarker(marker);

        await running.DisposeAsync();

        Assert.Equal(4, hostPids.Count); // sandbox-init, the probe and its two sleepers
        HostProcesses.AssertAllGone(hostPids, marker);
    }

    [Fact(Timeout = 60_000)]
    public async Task KillAsync_ends_the_sandbox_as_killed_by_SIGKILL()
    {
        await using var running = await Probe.Command("sleep", "30").StartAsync();

        await running.KillAsync();
        var result = await running.WaitAsync();

        Assert.True(running.HasExited);
        Assert.Equal(SandboxOutcome.Signaled, result.Outcome);
        Assert.Equal(9, result.Signal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_signal_sent_to_the_sandbox_is_forwarded_to_the_program()
    {
        await using var running = await Probe.Command("sleep", "30").StartAsync();

        running.Signal(15);
        var result = await running.WaitAsync();

        Assert.Equal(SandboxOutcome.Signaled, result.Outcome);
        Assert.Equal(15, result.Signal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Disposing_a_sandbox_that_already_exited_is_harmless()
    {
        var running = await Probe.Command("exit", "0").StartAsync();
        var result = await running.WaitAsync();

        await running.DisposeAsync();
        await running.DisposeAsync();

        Assert.Equal(SandboxOutcome.Ok, result.Outcome);
    }
}
