namespace Sandbox.Images.Layers;

/// <summary>What the layer's whiteouts become on disk.</summary>
public enum WhiteoutFormat
{
    /// <summary>
    /// overlayfs' own format, for a layer unpacked into its own directory and stacked as a lowerdir:
    /// <c>.wh.NAME</c> becomes a 0/0 character device NAME, <c>.wh..wh..opq</c> the opaque xattr on its directory.
    /// </summary>
    Overlay,
    /// <summary>Applied to the tree below: <c>.wh.NAME</c> deletes NAME, an opaque directory loses every child the layer does not bring.</summary>
    Apply,
}
