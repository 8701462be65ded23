using System.Formats.Tar;
using System.IO.Compression;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;
using Sandbox.Interop;

namespace Sandbox.Tests.Images;

/// <summary>Builds an overlay upper directory by hand (whiteouts, opaque directories, xattrs) and commits it to a layer in memory.</summary>
internal static class UpperDirectory
{
    public static readonly DateTimeOffset Time = new(2021, 5, 6, 7, 8, 9, TimeSpan.Zero);

    public static void File(string root, string path, string content, uint mode = 0x1A4)
    {
        string full = Path.Combine(root, path);
        System.IO.File.WriteAllText(full, content);
        System.IO.File.SetUnixFileMode(full, (UnixFileMode)mode);
    }

    public static void Directory(string root, string path, bool opaque = false)
    {
        var info = System.IO.Directory.CreateDirectory(Path.Combine(root, path));
        info.UnixFileMode = (UnixFileMode)0x1ED;
        if (opaque) ExtendedAttributes.Set(info.FullName, "user.overlay.opaque", "y"u8);
    }

    public static void Whiteout(string root, string path)
    {
        using var dir = ConfinedDirectory.Open(root);
        dir.CreateNode(path, FileSystemCalls.SIfChr, 0);
    }

    public static void Symlink(string root, string path, string target) => System.IO.File.CreateSymbolicLink(Path.Combine(root, path), target);

    /// <summary>Every node's modification time set to <see cref="Time"/>, so two trees built apart compare equal.</summary>
    public static void SetTimes(string root)
    {
        using var dir = ConfinedDirectory.Open(root);
        foreach (var path in TreeSnapshot.Of(root).Keys.Reverse())
            if (dir.TryStatus(path) is { IsSymlink: false })
                dir.SetTimes(path, Time, Time);
    }

    public static (byte[] Blob, LayerCommitResult Result) Commit(string upper, LayerCommitOptions? options = null)
    {
        var stream = new MemoryStream();
        var result = UpperLayerWriter.Write(upper, stream, options ?? Rootless);
        return (stream.ToArray(), result);
    }

    /// <summary>The options for an upper directory of a rootless overlay (user.overlay.*), owners given back as 0:0.</summary>
    public static readonly LayerCommitOptions Rootless = LayerCommitOptions.For(LayerApplyOptions.Rootless);

    public static byte[] Decompress(byte[] blob)
    {
        using var gzip = new GZipStream(new MemoryStream(blob), CompressionMode.Decompress);
        var tar = new MemoryStream();
        gzip.CopyTo(tar);
        return tar.ToArray();
    }

    public static List<PaxTarEntry> Entries(byte[] blob)
    {
        var entries = new List<PaxTarEntry>();
        using var reader = new TarReader(new MemoryStream(Decompress(blob)));
        while (reader.GetNextEntry(copyData: true) is { } entry)
            entries.Add((PaxTarEntry)entry);
        return entries;
    }

    /// <summary>Applies the committed blob to <paramref name="directory"/> as an import would.</summary>
    public static LayerApplyResult Apply(byte[] blob, LayerCommitResult result, string directory, LayerApplyOptions options) =>
        LayerApplier.Apply(new MemoryStream(blob), new LayerBlob(result.Digest, blob.Length, LayerCompression.Gzip, result.DiffId), directory, options);

    public static Digest Sha256(byte[] bytes) => Digest.Sha256Of(bytes);
}
