namespace Sandbox;

/// <summary>The host's kernel or configuration lacks a feature the sandbox needs: says which and how to get it.</summary>
public sealed class SandboxUnsupportedException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    public SandboxUnsupportedException(string feature, string howToGetIt, Exception? innerException = null)
        : base($"This host does not support {feature}. {howToGetIt}", innerException)
    {
        Feature = feature;
        HowToGetIt = howToGetIt;
    }

    /// <summary>The missing feature.</summary>
    public string Feature { get; }

    /// <summary>How to make it available.</summary>
    public string HowToGetIt { get; }
}
