using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using BenchmarkDotNet.Attributes;
using Sandbox.Images;
using Sandbox.Images.Layers;
using Sandbox.Images.Oci;
using Sandbox.Images.Store;

namespace Sandbox.Benchmarks;

/// <summary>
/// Unpacking one gzip layer: <c>tar -xzf</c> (the baseline) against <see cref="LayerApplier"/> (verifying both
/// digests, confined *at calls, overlay whiteouts) and a whole <see cref="ImageStore"/> import (the same plus the
/// store's lock, temporary directory and rename). The layer is made once, the same on every machine
/// (<see cref="LayerFixture"/>); everything is unpacked into a tmpfs (/dev/shm), so the file system's
/// write-back is not what is measured.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 10, invocationCount: 1)]
[BenchmarkCategory("Layers")]
public class LayerBenchmarks
{
    private LayerFixture _fixture = null!;
    private string _target = "";

    [GlobalSetup]
    public void Setup() => _fixture = LayerFixture.Create();

    [GlobalCleanup]
    public void Cleanup() => _fixture.Dispose();

    [IterationSetup]
    public void MakeTarget() => _target = _fixture.NewTarget();

    [IterationCleanup]
    public void RemoveTarget() => LayerFixture.Remove(_target);

    [Benchmark(Baseline = true, Description = "tar -xzf layer.tar.gz")]
    public int TarExtract() => LayerFixture.TarExtract(_fixture.Blob, _target);

    [Benchmark(Description = "LayerApplier.Apply layer.tar.gz")]
    public long Apply() => _fixture.Apply(_target).Entries;

    [Benchmark(Description = "ImageStore.ImportAsync (one-layer image)")]
    public async Task<int> Import() => (await _fixture.ImportAsync(_target).ConfigureAwait(false)).Layers.Length;
}

/// <summary>
/// A synthetic layer shaped like a distribution's base layer: 400 directories, 6,000 files (70% 0.5–8 KiB,
/// 29% 8–128 KiB, 1% 0.5–4 MiB) of compressible text, 600 symlinks and 100 hard links, from a fixed seed;
/// gzip-compressed, with an OCI layout around it.
/// </summary>
internal sealed class LayerFixture : IDisposable
{
    private static readonly string[] Words = ["lib", "usr", "share", "the", "config", "value", "int", "return", "static", "void", "path", "x86_64", "linux", "gnu", "0x1f", "{", "}", ";", "\n"];

    private LayerFixture(string root, string blob, LayerBlob layer, int entries, long bytes)
    {
        Root = root;
        Blob = blob;
        Layer = layer;
        Entries = entries;
        TarBytes = bytes;
    }

    public string Root { get; }
    public string Blob { get; }
    public LayerBlob Layer { get; }
    public int Entries { get; }
    public long TarBytes { get; }
    public string Layout => Path.Combine(Root, "layout");

    public static LayerFixture Create()
    {
        string scratch = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string root = Directory.CreateDirectory(Path.Combine(scratch, $"sandbox-layer-bench-{Guid.NewGuid():N}")).FullName;
        string tarPath = Path.Combine(root, "layer.tar");
        int entries = Write(tarPath);
        string blob = Path.Combine(root, "layer.tar.gz");
        using (var input = File.OpenRead(tarPath))
        using (var output = File.Create(blob))
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
            input.CopyTo(gzip);
        long tarBytes = new FileInfo(tarPath).Length;
        var diffId = Digest.FromHash("sha256", System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(tarPath)));
        File.Delete(tarPath);
        var digest = Digest.FromHash("sha256", System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(blob)));
        var layer = new LayerBlob(digest, new FileInfo(blob).Length, LayerCompression.Gzip, diffId);
        var fixture = new LayerFixture(root, blob, layer, entries, tarBytes) { Scratch = scratch };
        fixture.WriteLayout();
        return fixture;
    }

    private string Scratch { get; init; } = "";

    public string NewTarget() =>
        Directory.CreateDirectory(Path.Combine(Scratch, $"sandbox-layer-target-{Guid.NewGuid():N}")).FullName;

    public static int TarExtract(string blob, string target)
    {
        using var tar = Process.Start(new ProcessStartInfo("tar") { ArgumentList = { "-xzf", blob, "-C", target }, UseShellExecute = false })!;
        tar.WaitForExit();
        return tar.ExitCode == 0 ? 0 : throw new InvalidOperationException($"tar exited with {tar.ExitCode}");
    }

    public LayerApplyResult Apply(string target)
    {
        using var stream = new FileStream(Blob, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        return LayerApplier.Apply(stream, Layer, target, LayerApplyOptions.ForCurrentUser());
    }

    public async Task<StoredImage> ImportAsync(string storeRoot)
    {
        var store = ImageStore.Open(new ImageStoreOptions { Root = storeRoot });
        using var source = ImageSource.Open(Layout);
        return await store.ImportAsync(source, ImageReference.Parse("bench/layer:latest"), "latest").ConfigureAwait(false);
    }

    public static void Remove(string path)
    {
        using var rm = Process.Start(new ProcessStartInfo("rm") { ArgumentList = { "-rf", path }, UseShellExecute = false })!;
        rm.WaitForExit();
    }

    public void Dispose() => Remove(Root);

    private static int Write(string path)
    {
        var random = new Random(20261126);
        var time = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var directories = new List<string>();
        var files = new List<string>();
        int entries = 0;
        using var stream = File.Create(path);
        using var writer = new TarWriter(stream, TarEntryFormat.Pax);
        for (int d = 0; d < 400; d++)
        {
            string parent = d < 20 ? "" : directories[random.Next(Math.Min(d, 200))] + "/";
            string name = $"{parent}dir{d}";
            directories.Add(name);
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name + "/") { Mode = (UnixFileMode)0x1ED, ModificationTime = time });
            entries++;
        }
        var text = new System.Text.StringBuilder();
        for (int f = 0; f < 6000; f++)
        {
            double pick = random.NextDouble();
            int size = pick < 0.70 ? random.Next(512, 8 << 10) : pick < 0.99 ? random.Next(8 << 10, 128 << 10) : random.Next(512 << 10, 4 << 20);
            text.Clear();
            while (text.Length < size) text.Append(Words[random.Next(Words.Length)]).Append(' ');
            byte[] content = System.Text.Encoding.ASCII.GetBytes(text.ToString(0, size));
            string name = $"{directories[random.Next(directories.Count)]}/file{f}.txt";
            files.Add(name);
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
            {
                Mode = (UnixFileMode)(random.Next(4) == 0 ? 0x1ED : 0x1A4),
                ModificationTime = time,
                DataStream = new MemoryStream(content),
            });
            entries++;
        }
        for (int s = 0; s < 600; s++)
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, $"{directories[random.Next(directories.Count)]}/link{s}")
            {
                LinkName = "../" + files[random.Next(files.Count)], Mode = (UnixFileMode)0x1FF, ModificationTime = time,
            });
            entries++;
        }
        for (int h = 0; h < 100; h++)
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, $"{directories[random.Next(directories.Count)]}/hard{h}")
            {
                LinkName = files[random.Next(files.Count)], Mode = (UnixFileMode)0x1A4, ModificationTime = time,
            });
            entries++;
        }
        return entries;
    }

    private void WriteLayout()
    {
        string blobs = Path.Combine(Layout, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        File.Copy(Blob, Path.Combine(blobs, Layer.Digest.Encoded));
        File.WriteAllText(Path.Combine(Layout, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        string config = $"{{\"architecture\":\"{Platform.Host.Architecture}\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{Layer.DiffId}\"]}}}}";
        var configDigest = WriteBlob(blobs, config);
        string manifest = $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}}," +
            $"\"layers\":[{{\"mediaType\":\"{MediaTypes.OciLayerTarGzip}\",\"digest\":\"{Layer.Digest}\",\"size\":{Layer.Size}}}]}}";
        var manifestDigest = WriteBlob(blobs, manifest);
        File.WriteAllText(Path.Combine(Layout, "index.json"),
            $"{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"{manifestDigest}\",\"size\":{manifest.Length},\"annotations\":{{\"org.opencontainers.image.ref.name\":\"latest\"}}}}]}}");
    }

    private static Digest WriteBlob(string blobs, string json)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(json);
        var digest = Digest.Sha256Of(bytes);
        File.WriteAllBytes(Path.Combine(blobs, digest.Encoded), bytes);
        return digest;
    }
}
