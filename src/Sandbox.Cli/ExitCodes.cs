namespace Sandbox.Cli;

/// <summary>The CLI's own exit codes; otherwise it exits with the program's status (128 + signal when killed).</summary>
internal static class ExitCodes
{
    /// <summary>Bad options or an invalid sandbox specification.</summary>
    public const int Usage = 2;

    /// <summary>The sandbox could not be set up (see the message).</summary>
    public const int SetupFailed = 125;

    /// <summary>The program exists but could not be executed.</summary>
    public const int CannotExecute = 126;

    /// <summary>The program was not found inside the sandbox.</summary>
    public const int NotFound = 127;
}
