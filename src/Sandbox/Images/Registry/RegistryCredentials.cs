namespace Sandbox.Images.Registry;

/// <summary>A user name and password (or token) for a registry: sent as Basic credentials to its token endpoint, or to the registry itself when it asks for Basic.</summary>
/// <param name="Username">The user name.</param>
/// <param name="Password">The password or personal access token.</param>
public sealed record RegistryCredentials(string Username, string Password)
{
    /// <summary>The value of a Basic <c>Authorization</c> header.</summary>
    internal string ToBasicParameter() =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Username}:{Password}"));

    /// <summary>Never the password.</summary>
    public override string ToString() => $"{Username}:***";
}
