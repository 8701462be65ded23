using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

/// <summary>
/// What the sandbox's PID 1 (sandbox-init, src/native/launcher/init.c) does for the program: the state the
/// program starts in, signals forwarded from the host, orphans reaped, and the end of everything else when the
/// program exits.
/// </summary>
public sealed class SandboxInitTests
{
    /// <summary>Signals a program may catch, across the whole 64-signal range: classic, default-ignored, real-time.</summary>
    public static TheoryData<int> CatchableSignals => new()
    {
        1,  // SIGHUP
        2,  // SIGINT
        3,  // SIGQUIT
        10, // SIGUSR1
        12, // SIGUSR2
        14, // SIGALRM
        15, // SIGTERM
        18, // SIGCONT
        28, // SIGWINCH, ignored by default
        34, // SIGRTMIN
        64, // SIGRTMAX
    };

    /// <summary>Signals whose default action ends the program.</summary>
    public static TheoryData<int> TerminatingSignals => new() { 1, 2, 10, 14, 15, 34 };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(CatchableSignals))]
    public async Task A_signal_sent_to_the_sandbox_reaches_the_program_s_own_handler(int signal)
    {
        await using var running = await Probe.Command("catch-signals").StartAsync();
        var output = new LineReader(running.StandardOutput);
        Assert.Equal("ready", await output.ReadLineAsync());

        running.Signal(signal);
        string caught = await output.ReadLineAsync();
        var result = await running.WaitAsync();

        Assert.Equal($"caught={signal}", caught);
        Assert.Equal(SandboxOutcome.Ok, result.Outcome);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(TerminatingSignals))]
    public async Task A_signal_the_program_does_not_handle_ends_it_as_signaled_by_that_signal(int signal)
    {
        await using var running = await Probe.Command("sleep", "30").StartAsync();

        running.Signal(signal);
        var result = await running.WaitAsync();

        Assert.Equal(SandboxOutcome.Signaled, result.Outcome);
        Assert.Equal(signal, result.Signal);
        Assert.Null(result.ExitCode);
        Assert.Equal(128 + signal, result.ShellExitCode);
        Assert.InRange(result.WallTime, TimeSpan.Zero, TimeSpan.FromSeconds(20));
    }

    [Fact(Timeout = 60_000)]
    public async Task Init_holds_none_of_the_programs_standard_streams_so_its_output_ends_when_the_program_closes_it()
    {
        await using var running = await SandboxSpec.Command("/bin/sh", "-c", "echo before; exec >&- 2>&-; exec sleep 30").StartAsync();

        // Both ends come from the program's closes, 30 s before its exit (were init holding them, from its exit).
        var ends = TimeSpan.FromSeconds(15);
        string output = await new StreamReader(running.StandardOutput).ReadToEndAsync().WaitAsync(ends);
        await new StreamReader(running.StandardError).ReadToEndAsync().WaitAsync(ends);

        Assert.Equal("before\n", output);
        Assert.False(running.HasExited);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_program_starts_with_no_signal_blocked_ignored_or_caught()
    {
        var values = (await Probe.RunAsync("signals")).Values();

        Assert.Equal("0000000000000000", values["SigBlk"]);
        Assert.Equal("0000000000000000", values["SigIgn"]);
        Assert.Equal("0000000000000000", values["SigCgt"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_program_leads_a_session_and_process_group_of_its_own()
    {
        var values = (await Probe.RunAsync("session")).Values();

        Assert.Equal("2", values["sid"]);
        Assert.Equal("2", values["pgid"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_orphaned_grandchild_is_adopted_and_reaped_by_the_sandbox_init()
    {
        var values = (await Probe.RunAsync("orphan")).Values();

        Assert.Equal("1", values["orphan_ppid"]);
        Assert.Equal("yes", values["reaped"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task When_the_program_exits_what_it_left_running_is_killed_and_its_exit_code_stands()
    {
        string marker = HostProcesses.NewMarker();

        var result = await Probe.Command("leave-sleepers", "3", "7", marker).RunAsync();

        Assert.Equal(3, result.StandardOutput.Lines().Count(line => line.StartsWith("sleeper=", StringComparison.Ordinal)));
        Assert.Equal(SandboxOutcome.NonZeroExit, result.Outcome);
        Assert.Equal(7, result.ExitCode);
        Assert.Empty(HostProcesses.WithMarker(marker));
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_a_cgroup_the_CPU_time_comes_from_the_exit_report_of_the_sandbox_init()
    {
        var result = (await Probe.Command("cpu-burn", "200").WithoutOwnCgroup().RunAsync()).EnsureSuccess();
        var burnt = TimeSpan.FromMicroseconds(long.Parse(result.StandardOutput.Values()["cpu_us"], System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(CpuTimeSource.Rusage, result.Usage.CpuSource);
        Assert.InRange(result.Usage.CpuTime, burnt, burnt + TimeSpan.FromMilliseconds(100));
    }
}
