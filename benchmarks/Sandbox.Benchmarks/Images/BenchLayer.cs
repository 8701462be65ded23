using System.Formats.Tar;
using System.Text;

namespace Sandbox.Benchmarks.Images;

/// <summary>
/// One layer of a benchmark image, as the tar entries it writes (from a fixed seed: the same bytes on every run and
/// machine, except <see cref="Busybox"/>, which holds the host's busybox-static binary).
/// </summary>
internal sealed class BenchLayer
{
    private static readonly DateTimeOffset Time = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Words = ["lib", "usr", "share", "the", "config", "value", "int", "return", "static", "void", "path", "x86_64", "linux", "gnu", "0x1f", "{", "}", ";", "\n"];

    private readonly Func<TarWriter, int> _write;

    private BenchLayer(string name, Func<TarWriter, int> write)
    {
        Name = name;
        _write = write;
    }

    /// <summary>A short description, for reports.</summary>
    public string Name { get; }

    /// <summary>Writes the layer's entries; returns how many.</summary>
    public int Write(TarWriter writer) => _write(writer);

    /// <summary>The host's static busybox (busybox-static) as /bin/busybox with /bin/sh and /bin/true linking to it, /etc/passwd and /etc/group, and the usual top directories.</summary>
    public static BenchLayer Busybox(string busybox = "/bin/busybox") => new("busybox", writer =>
    {
        if (!System.IO.File.Exists(busybox))
            throw new InvalidOperationException($"{busybox} is missing: install busybox-static (apt-get install busybox-static; test.sh installs it).");
        int entries = 0;
        foreach (string dir in new[] { "bin", "dev", "etc", "home", "proc", "root", "tmp", "usr", "var" })
            entries += Directory(writer, dir, dir == "tmp" ? 0x3FF : 0x1ED);
        using (var content = System.IO.File.OpenRead(busybox))
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox") { Mode = (UnixFileMode)0x1ED, ModificationTime = Time, DataStream = content });
        entries++;
        foreach (string applet in new[] { "sh", "true", "ls", "cat" })
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bin/" + applet) { LinkName = "busybox", Mode = (UnixFileMode)0x1FF, ModificationTime = Time });
            entries++;
        }
        entries += File(writer, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
        entries += File(writer, "etc/group", "root:x:0:\nnogroup:x:65534:\n");
        return entries;
    });

    /// <summary>
    /// <paramref name="files"/> files of compressible text under <paramref name="top"/> in 1 + files/25 directories, sized like a
    /// distribution's (70% 0.5–8 KiB, 29% 8–128 KiB, 1% 0.5–2 MiB), and a symlink to every tenth.
    /// </summary>
    public static BenchLayer TextFiles(string top, int files, int seed) => new($"{top}: {files} text files", writer =>
    {
        var random = new Random(seed);
        int entries = Directory(writer, top, 0x1ED);
        var directories = new List<string> { top };
        for (int d = 0; d < files / 25; d++)
        {
            string name = $"{directories[random.Next(directories.Count)]}/d{d}";
            directories.Add(name);
            entries += Directory(writer, name, 0x1ED);
        }
        var text = new StringBuilder();
        for (int f = 0; f < files; f++)
        {
            double pick = random.NextDouble();
            int size = pick < 0.70 ? random.Next(512, 8 << 10) : pick < 0.99 ? random.Next(8 << 10, 128 << 10) : random.Next(512 << 10, 2 << 20);
            text.Clear();
            while (text.Length < size) text.Append(Words[random.Next(Words.Length)]).Append(' ');
            string path = $"{directories[random.Next(directories.Count)]}/f{f}.txt";
            entries += File(writer, path, text.ToString(0, size));
            if (f % 10 == 0)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, path + ".link") { LinkName = $"f{f}.txt", Mode = (UnixFileMode)0x1FF, ModificationTime = Time });
                entries++;
            }
        }
        return entries;
    });

    /// <summary>One file of <paramref name="bytes"/> random (incompressible) bytes at <paramref name="path"/>, like a binary or an archive.</summary>
    public static BenchLayer RandomFile(string path, int bytes, int seed) => new($"{path}: {bytes >> 20} MiB random", writer =>
    {
        byte[] content = new byte[bytes];
        new Random(seed).NextBytes(content);
        int entries = Directory(writer, Path.GetDirectoryName(path)!, 0x1ED);
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { Mode = (UnixFileMode)0x1A4, ModificationTime = Time, DataStream = new MemoryStream(content) });
        return entries + 1;
    });

    /// <summary>A small top layer: a new /etc/motd, a whiteout removing <paramref name="removed"/> from a lower layer, and an opaque directory <paramref name="opaque"/>.</summary>
    public static BenchLayer Changes(string removed, string opaque) => new("changes: a whiteout, an opaque directory", writer =>
    {
        int entries = Directory(writer, "etc", 0x1ED) + File(writer, "etc/motd", "benchmark image\n");
        string parent = Path.GetDirectoryName(removed)!;
        entries += Directory(writer, parent, 0x1ED) + File(writer, $"{parent}/.wh.{Path.GetFileName(removed)}", "");
        entries += Directory(writer, opaque, 0x1ED) + File(writer, opaque + "/.wh..wh..opq", "") + File(writer, opaque + "/only", "only this\n");
        return entries;
    });

    private static int Directory(TarWriter writer, string path, int mode)
    {
        writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, path + "/") { Mode = (UnixFileMode)mode, ModificationTime = Time });
        return 1;
    }

    private static int File(TarWriter writer, string path, string content)
    {
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { Mode = (UnixFileMode)0x1A4, ModificationTime = Time, DataStream = new MemoryStream(Encoding.ASCII.GetBytes(content)) });
        return 1;
    }
}
