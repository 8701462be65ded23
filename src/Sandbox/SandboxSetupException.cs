using Sandbox.Launch;

namespace Sandbox;

/// <summary>
/// Setting up a sandbox failed before the program ran: names the stage, the errno, the path or value
/// involved and how to fix it.
/// </summary>
public sealed class SandboxSetupException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    public SandboxSetupException(SetupStage stage, int errno, string? path, string fix, string? context = null)
        : base(Format(stage, errno, path, fix, context))
    {
        Stage = stage;
        Errno = errno;
        Path = path;
        Fix = fix;
    }

    /// <summary>The step that failed.</summary>
    public SetupStage Stage { get; }

    /// <summary>The errno the kernel returned (0 if none).</summary>
    public int Errno { get; }

    /// <summary>The errno's symbolic name, e.g. <c>ENOENT</c>.</summary>
    public string ErrnoName => Interop.ErrnoNames.Of(Errno);

    /// <summary>The path or value the step worked on, if any.</summary>
    public string? Path { get; }

    /// <summary>What to do about it.</summary>
    public string Fix { get; }

    private static string Format(SetupStage stage, int errno, string? path, string fix, string? context)
    {
        string where = path is null ? "" : $" '{path}'";
        string err = errno == 0 ? "" : $": {Interop.ErrnoNames.Of(errno)} ({System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)})";
        string extra = context is null ? "" : $" ({context})";
        return $"Sandbox setup failed at stage '{stage}'{where}{err}{extra}. Fix: {fix}";
    }
}
