using System.Diagnostics.Contracts;

namespace Sandbox;

public sealed partial record SandboxSpec
{
    /// <summary>
    /// Where <see cref="RunAsync"/> writes the program's standard output as it arrives, instead of capturing it; null:
    /// captured into <see cref="SandboxResult.StandardOutput"/>. The output limit still applies: at most
    /// <see cref="OutputLimitBytes"/> bytes are written here, and with <see cref="KillOnOutputLimit"/> one more kills the sandbox.
    /// </summary>
    public Stream? StandardOutputForwarding { get; init; }

    /// <summary>Where <see cref="RunAsync"/> writes the program's standard error as it arrives (see <see cref="StandardOutputForwarding"/>).</summary>
    public Stream? StandardErrorForwarding { get; init; }

    /// <summary>
    /// Whether the program reads the host process's own standard input (fd 0) directly, while its output goes through
    /// pipes (captured or forwarded). <see cref="InheritStandardStreams"/> hands over all three instead.
    /// </summary>
    public bool InheritStandardInput { get; init; }

    /// <summary>
    /// Forwards the program's output to <paramref name="standardOutput"/> and <paramref name="standardError"/> as it arrives,
    /// each counted against the output limit on its own: beyond <see cref="OutputLimitBytes"/> nothing more is written, and
    /// with <c>WithOutputLimit(bytes, killWhenExceeded: true)</c> the sandbox is killed
    /// (<see cref="SandboxOutcome.OutputLimitExceeded"/>) with exactly the limit written. The result's
    /// <see cref="CapturedOutput.ForwardedBytes"/> says how much was. If writing to a target fails (a closed pipe), the
    /// program's end of that stream is closed too, so it gets EPIPE as it would writing to the pipe itself.
    /// </summary>
    /// <param name="standardOutput">Receives standard output; not disposed.</param>
    /// <param name="standardError">Receives standard error; not disposed. It may be the same stream as <paramref name="standardOutput"/>
    /// (as 2>&amp;1): the two are then written in turns, a whole read of either at a time.</param>
    [Pure]
    public SandboxSpec WithOutputForwarding(Stream standardOutput, Stream standardError) =>
        this with { StandardOutputForwarding = standardOutput, StandardErrorForwarding = standardError };

    /// <summary>Gives the program the host process's own standard input (fd 0), keeping its output on pipes.</summary>
    [Pure]
    public SandboxSpec WithInheritedStandardInput() => this with { InheritStandardInput = true };

    private void ValidateStreams(List<string> problems)
    {
        bool forwarding = StandardOutputForwarding is not null || StandardErrorForwarding is not null;
        if (forwarding && InheritStandardStreams)
            problems.Add("Output forwarding is set together with inherited standard streams, which give the program the host's own stdout and stderr: choose one.");
        if (StandardOutputForwarding is { CanWrite: false })
            problems.Add("The stream to forward standard output to is not writable: pass a writable stream (e.g. Console.OpenStandardOutput()).");
        if (StandardErrorForwarding is { CanWrite: false })
            problems.Add("The stream to forward standard error to is not writable: pass a writable stream (e.g. Console.OpenStandardError()).");
        if (InheritStandardInput && StandardInput is not null)
            problems.Add("StandardInput is set together with an inherited standard input: choose one.");
    }
}
