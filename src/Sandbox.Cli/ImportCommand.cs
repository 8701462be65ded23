using System.CommandLine;
using Sandbox.Images;
using Sandbox.Images.Oci;

namespace Sandbox.Cli;

/// <summary>
/// <c>sandbox import PATH [--name REF] [--store DIR]</c>: imports an OCI layout or archive, a docker-save archive or a
/// root file system directory. Without <c>--name</c> the image keeps the name the source gives it (a full reference).
/// </summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "An OCI image layout directory, an OCI archive, a docker-save archive, or a root file system directory." };
        var name = new Option<string?>("--name") { Description = "The name to store it under, e.g. app:1 (needed when the source names no image, or several)." };
        var store = ImageCommandOptions.CreateStoreOption();
        var import = new Command("import", "Import an image from a file or directory into the image store.") { path, name, store };
        import.SetAction(async (parse, cancellationToken) =>
        {
            string? given = parse.GetValue(name);
            ImageReference? reference = null;
            if (given is not null && !ImageCommandOptions.TryParseReference(given, out reference, out string problem))
            {
                Console.Error.WriteLine($"sandbox import: --name: {problem}");
                return ExitCodes.Usage;
            }
            string source = parse.GetValue(path)!;
            if (!File.Exists(source) && !Directory.Exists(source))
            {
                Console.Error.WriteLine($"sandbox import: '{source}' does not exist. Fix: give the path of an OCI layout, an archive or a directory.");
                return ExitCodes.Usage;
            }
            var opened = ImageCommandOptions.OpenStore(parse.GetValue(store), Console.Error, "import");
            if (opened is null) return 1;
            try
            {
                using var image = ImageSource.Open(source);
                if (!TryChooseName(image, reference, out var chosen, out string? sourceName, out string? why))
                {
                    Console.Error.WriteLine($"sandbox import: {why}");
                    return ExitCodes.Usage;
                }
                var stored = await opened.ImportAsync(image, chosen, sourceName, cancellationToken);
                Console.Out.WriteLine($"Imported {stored.Reference}: manifest {stored.ManifestDigest}, {stored.Layers.Length} layer(s)");
                return 0;
            }
            catch (ImageException e)
            {
                Console.Error.WriteLine($"sandbox import: {e.Message}");
                return 1;
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("sandbox import: interrupted; nothing partial was kept.");
                return 130;
            }
        });
        return import;
    }

    /// <summary>
    /// The name to store under and the image to pick from the source. With <c>--name</c>: that name; a source with several
    /// named images must hold one whose name or tag matches it. Without: the source's only name, if it is a full reference.
    /// </summary>
    internal static bool TryChooseName(ImageSource source, ImageReference? given, out ImageReference chosen, out string? sourceName, out string? problem)
    {
        var names = source.Index.Manifests.Select(m => m.RefName).OfType<string>().Distinct().ToList();
        chosen = null!;
        sourceName = null;
        problem = null;
        if (given is not null)
        {
            chosen = given;
            if (names.Count > 1)
                sourceName = names.FirstOrDefault(n => ImageReference.TryParse(n, out var r, out _) && r == given)
                    ?? names.FirstOrDefault(n => n == given.Tag);
            if (names.Count > 1 && sourceName is null)
            {
                problem = $"the source holds several images ({string.Join(", ", names)}) and none is named '{given}'. Fix: give --name with one of their names or tags.";
                return false;
            }
            return true;
        }
        if (names.Count == 1 && ImageReference.TryParse(names[0], out var named, out _) && names[0].Contains('/', StringComparison.Ordinal))
        {
            chosen = named;
            return true;
        }
        problem = names.Count switch
        {
            0 => "the source names no image. Fix: give --name, e.g. --name app:1.",
            1 => $"the source names its image only '{names[0]}'. Fix: give --name, e.g. --name app:{names[0]}.",
            _ => $"the source holds several images ({string.Join(", ", names)}). Fix: give --name with one of their names or tags.",
        };
        return false;
    }
}
