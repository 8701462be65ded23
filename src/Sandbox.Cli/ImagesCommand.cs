using System.CommandLine;
using System.Globalization;
using Sandbox.Images;
using Sandbox.Images.Store;

namespace Sandbox.Cli;

/// <summary><c>sandbox images [--store DIR]</c>: the images in the store, with their size on disk.</summary>
internal static class ImagesCommand
{
    public static Command Create()
    {
        var store = ImageCommandOptions.CreateStoreOption();
        var images = new Command("images", "List the images in the image store.") { store };
        images.SetAction(parse =>
        {
            var opened = ImageCommandOptions.OpenStore(parse.GetValue(store), Console.Error, "images");
            if (opened is null) return 1;
            try
            {
                Console.Out.Write(FormatTable(opened.ListImages(), opened.GetDiskUsage()));
                return 0;
            }
            catch (ImageException e)
            {
                Console.Error.WriteLine($"sandbox images: {e.Message}");
                return 1;
            }
        });
        return images;
    }

    /// <summary>REFERENCE, ID (the config digest, short, as Docker shows it), LAYERS, SIZE (all its layers), UNIQUE (only its own), IMPORTED.</summary>
    internal static string FormatTable(IReadOnlyList<StoredImage> images, StoreDiskUsage usage)
    {
        var rows = new List<string[]> { new[] { "REFERENCE", "ID", "LAYERS", "SIZE", "UNIQUE", "IMPORTED" } };
        foreach (var image in images)
        {
            var disk = usage.Images.FirstOrDefault(i => i.Reference == image.Reference);
            rows.Add([image.Reference.FamiliarName, image.ConfigDigest.Short, image.Layers.Length.ToString(CultureInfo.InvariantCulture),
                ImageCommandOptions.FormatBytes(disk?.Bytes ?? 0), ImageCommandOptions.FormatBytes(disk?.UniqueBytes ?? 0),
                image.Imported.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + "Z"]);
        }
        int[] widths = [.. Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length))];
        var text = new System.Text.StringBuilder();
        foreach (var row in rows)
            text.AppendLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))));
        return text.ToString();
    }
}
