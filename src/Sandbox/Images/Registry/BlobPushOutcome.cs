namespace Sandbox.Images.Registry;

/// <summary>What pushing one blob took.</summary>
public enum BlobPushOutcome
{
    /// <summary>The repository had it already (HEAD answered 200): nothing was sent.</summary>
    AlreadyThere,

    /// <summary>The registry linked it from another repository it holds it in (a cross-repository mount): nothing was sent.</summary>
    Mounted,

    /// <summary>Its bytes were uploaded.</summary>
    Uploaded,
}
