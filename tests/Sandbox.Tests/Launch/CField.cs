namespace Sandbox.Tests.Launch;

/// <summary>A field of a C struct: its name, its C type, whether it is a plain integer (no array, no struct).</summary>
public sealed record CField(string Name, string Type, bool IsScalar);
