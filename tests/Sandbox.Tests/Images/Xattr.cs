using Sandbox.Interop;

namespace Sandbox.Tests.Images;

/// <summary>lgetxattr for assertions.</summary>
internal static class Xattr
{
    public static string? Get(string path, string name) => ExtendedAttributes.TryGetText(path, name);
}
