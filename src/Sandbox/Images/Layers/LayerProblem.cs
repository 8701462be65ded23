namespace Sandbox.Images.Layers;

/// <summary>Why a layer was rejected.</summary>
public enum LayerProblem
{
    /// <summary>An entry's path climbs out with "..".</summary>
    PathTraversal,
    /// <summary>An entry's path is absolute.</summary>
    AbsolutePath,
    /// <summary>An entry's path is empty, has a NUL or is otherwise unusable.</summary>
    InvalidPath,
    /// <summary>An entry's parent is a symbolic link or not a directory.</summary>
    SymlinkInPath,
    /// <summary>A hard link names a file outside the layer or one it does not contain.</summary>
    HardLinkOutside,
    /// <summary>An entry is of a kind that is not unpacked (sparse, multi-volume, unknown).</summary>
    UnsupportedEntry,
    /// <summary>A device node where the options reject them.</summary>
    DeviceNode,
    /// <summary>More entries than allowed.</summary>
    TooManyEntries,
    /// <summary>More bytes than allowed.</summary>
    TooLarge,
    /// <summary>A path or link text longer than allowed.</summary>
    PathTooLong,
    /// <summary>An owner outside the id range the mapping covers.</summary>
    UnmappedOwner,
    /// <summary>The tar or its compression is malformed or truncated.</summary>
    Malformed,
    /// <summary>The blob's digest or size is not the one the manifest names.</summary>
    DigestMismatch,
    /// <summary>The uncompressed tar's digest is not the config's diff id.</summary>
    DiffIdMismatch,
    /// <summary>The file system refused a write (no space, permission).</summary>
    WriteFailed,
}
