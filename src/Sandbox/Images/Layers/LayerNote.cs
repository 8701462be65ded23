namespace Sandbox.Images.Layers;

/// <summary>Something of a layer that was left out or changed on the way to disk, and why (a device node when rootless, an xattr the file system refused).</summary>
/// <param name="Entry">The tar entry.</param>
/// <param name="Message">What happened.</param>
public sealed record LayerNote(string Entry, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Entry}: {Message}";
}
