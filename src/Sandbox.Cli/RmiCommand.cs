using System.CommandLine;
using Sandbox.Images;

namespace Sandbox.Cli;

/// <summary><c>sandbox rmi REF... [--store DIR] [--prune]</c>: removes image names; with <c>--prune</c>, also the layers no image uses any more.</summary>
internal static class RmiCommand
{
    public static Command Create()
    {
        var references = new Argument<string[]>("reference") { Description = "The image(s) to remove, as listed by 'sandbox images'.", Arity = ArgumentArity.OneOrMore };
        var store = ImageCommandOptions.CreateStoreOption();
        var prune = new Option<bool>("--prune") { Description = "Then remove layers and blobs no image uses (waits until no run holds the store)." };
        var rmi = new Command("rmi", "Remove images from the image store.") { references, store, prune };
        rmi.SetAction((parse, cancellationToken) =>
        {
            var parsed = new List<ImageReference>();
            bool bad = false;
            foreach (string text in parse.GetValue(references) ?? [])
            {
                if (ImageCommandOptions.TryParseReference(text, out var reference, out string problem)) parsed.Add(reference);
                else
                {
                    Console.Error.WriteLine($"sandbox rmi: {problem}");
                    bad = true;
                }
            }
            if (bad) return Task.FromResult(ExitCodes.Usage);
            var opened = ImageCommandOptions.OpenStore(parse.GetValue(store), Console.Error, "rmi");
            if (opened is null) return Task.FromResult(1);
            int status = 0;
            foreach (var reference in parsed)
            {
                if (opened.RemoveImage(reference)) Console.Out.WriteLine($"Removed {reference}");
                else
                {
                    Console.Error.WriteLine($"sandbox rmi: there is no image '{reference}' in the store at '{opened.Root}'. Fix: see 'sandbox images'.");
                    status = 1;
                }
            }
            if (parse.GetValue(prune))
            {
                var collected = opened.CollectGarbage(cancellationToken);
                Console.Out.WriteLine($"Pruned {collected.RemovedLayers.Length} layer(s), {collected.RemovedBlobs.Length} blob(s): {ImageCommandOptions.FormatBytes(collected.FreedBytes)} freed");
            }
            return Task.FromResult(status);
        });
        return rmi;
    }
}
