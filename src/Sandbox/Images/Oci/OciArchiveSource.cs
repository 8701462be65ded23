namespace Sandbox.Images.Oci;

/// <summary>An OCI archive: a tar whose members are an OCI image layout; blobs are read in place.</summary>
public sealed class OciArchiveSource : ImageSource
{
    private readonly TarArchiveIndex _archive;

    internal OciArchiveSource(string path, TarArchiveIndex archive)
    {
        _archive = archive;
        Description = Path.GetFullPath(path);
        OciLayoutSource.CheckLayoutVersion(ReadMember(OciLayoutSource.LayoutFile), Description);
        Index = OciLayoutSource.ParseIndex(ReadMember("index.json"), Description);
    }

    /// <inheritdoc/>
    public override string Description { get; }

    /// <inheritdoc/>
    public override ImageIndex Index { get; }

    /// <inheritdoc/>
    public override Stream OpenBlob(Descriptor descriptor)
    {
        string member = $"blobs/{descriptor.Digest.Algorithm}/{descriptor.Digest.Encoded}";
        if (!_archive.Contains(member))
            throw new ImageException("the archive does not hold this blob.", Description, descriptor.Digest, "The archive is incomplete: write it again.");
        return _archive.Open(member);
    }

    private byte[] ReadMember(string name)
    {
        if (!_archive.TryFind(name, out _, out long length) || length > 8 << 20)
            throw new ImageException($"the archive's '{name}' is missing or too large.", Description, null, "The archive is broken: write it again.");
        using var stream = _archive.Open(name);
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
