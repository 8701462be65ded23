namespace Sandbox.Images.Oci;

/// <summary>The media types of OCI and Docker image documents and layers.</summary>
public static class MediaTypes
{
    /// <summary>OCI image index.</summary>
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    /// <summary>OCI image manifest.</summary>
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    /// <summary>OCI image config.</summary>
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    /// <summary>OCI layer, plain tar.</summary>
    public const string OciLayerTar = "application/vnd.oci.image.layer.v1.tar";
    /// <summary>OCI layer, gzip-compressed tar.</summary>
    public const string OciLayerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// <summary>OCI layer, zstd-compressed tar.</summary>
    public const string OciLayerTarZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    /// <summary>OCI non-distributable layer, plain tar (deprecated but still met).</summary>
    public const string OciNondistributableLayerTar = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    /// <summary>OCI non-distributable layer, gzip.</summary>
    public const string OciNondistributableLayerTarGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    /// <summary>OCI non-distributable layer, zstd.</summary>
    public const string OciNondistributableLayerTarZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
    /// <summary>Docker manifest list (schema 2).</summary>
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// <summary>Docker image manifest (schema 2).</summary>
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    /// <summary>Docker container config.</summary>
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    /// <summary>Docker layer, gzip-compressed tar.</summary>
    public const string DockerLayerTarGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /// <summary>Docker foreign layer, gzip-compressed tar.</summary>
    public const string DockerForeignLayerTarGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    /// <summary>Docker layer, plain tar (what <c>docker save</c> writes).</summary>
    public const string DockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";

    /// <summary>True for an index or a manifest list.</summary>
    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;

    /// <summary>True for an image manifest.</summary>
    public static bool IsManifest(string? mediaType) => mediaType is OciManifest or DockerManifest;

    /// <summary>The compression of a layer media type, or null if it is not a layer type this library unpacks.</summary>
    public static Layers.LayerCompression? LayerCompressionOf(string? mediaType) => mediaType switch
    {
        OciLayerTar or OciNondistributableLayerTar or DockerLayerTar => Layers.LayerCompression.None,
        OciLayerTarGzip or OciNondistributableLayerTarGzip or DockerLayerTarGzip or DockerForeignLayerTarGzip => Layers.LayerCompression.Gzip,
        OciLayerTarZstd or OciNondistributableLayerTarZstd => Layers.LayerCompression.Zstd,
        _ => null,
    };
}
