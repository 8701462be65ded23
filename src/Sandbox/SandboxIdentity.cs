namespace Sandbox;

/// <summary>A user and group id pair.</summary>
/// <param name="Uid">The user id.</param>
/// <param name="Gid">The group id.</param>
public readonly record struct SandboxIdentity(uint Uid, uint Gid)
{
    /// <summary>The sandbox user inside the sandbox: 1000:1000, named "sandbox" in its /etc/passwd.</summary>
    public static SandboxIdentity DefaultSandboxUser { get; } = new(1000, 1000);

    /// <summary>nobody:nogroup, the host ids a root host maps the sandbox user to by default.</summary>
    public static SandboxIdentity Nobody { get; } = new(65534, 65534);

    /// <inheritdoc />
    public override string ToString() => $"{Uid}:{Gid}";
}
