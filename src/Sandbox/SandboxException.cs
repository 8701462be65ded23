namespace Sandbox;

/// <summary>The base of every exception Sandbox throws for its own failures (never for what the sandboxed code did).</summary>
public class SandboxException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SandboxException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
