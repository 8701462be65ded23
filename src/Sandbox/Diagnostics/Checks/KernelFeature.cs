namespace Sandbox.Diagnostics.Checks;

/// <summary>A kernel interface Sandbox uses and the release that introduced it.</summary>
internal sealed record KernelFeature(string Name, KernelVersion Since)
{
    public override string ToString() => $"{Name} ({Since.Major}.{Since.Minor})";
}
