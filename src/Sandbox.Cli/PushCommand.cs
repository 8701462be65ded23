using System.CommandLine;
using Sandbox.Images;
using Sandbox.Images.Registry;

namespace Sandbox.Cli;

/// <summary>
/// <c>sandbox push REF [DEST] [--store DIR] [--insecure-registry HOST]... [--username NAME --password-stdin]</c>: pushes
/// a stored image to a registry, with the same digest it has in the store.
/// </summary>
internal static class PushCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("reference") { Description = "The stored image to push, e.g. 127.0.0.1:5000/app:1 (loopback registries use plain HTTP)." };
        var destination = new Argument<string?>("destination")
        {
            Description = "Where to push it, e.g. registry.example.com/team/app:2 (default: the image's own name).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var store = ImageCommandOptions.CreateStoreOption();
        var insecure = RegistryLoginOptions.CreateInsecureRegistryOption();
        var username = RegistryLoginOptions.CreateUsernameOption();
        var passwordStdin = RegistryLoginOptions.CreatePasswordStdinOption();
        var push = new Command("push", "Push an image from the image store to a registry (layers the registry has are skipped; its digest stays the same).")
        {
            source, destination, store, insecure, username, passwordStdin,
        };
        push.SetAction(async (parse, cancellationToken) =>
        {
            bool bound = PushArguments.TryBind(parse.GetValue(source), parse.GetValue(destination), parse.GetValue(store), parse.GetValue(insecure),
                Environment.GetEnvironmentVariable(ImageCommandOptions.StoreVariable), out var arguments, out var problems);
            var all = problems.ToList();
            if (!RegistryLoginOptions.TryResolve(parse, username, passwordStdin, out var credentials, out string loginProblem)) all.Add(loginProblem);
            if (!bound || all.Count > 0)
                return RegistryLoginOptions.ReportUsage("push", all);
            return await RunAsync(arguments!, credentials, Console.Out, Console.Error, !Console.IsOutputRedirected, cancellationToken);
        });
        return push;
    }

    internal static async Task<int> RunAsync(PushArguments arguments, RegistryCredentials? credentials, TextWriter output, TextWriter error, bool terminal, CancellationToken cancellationToken)
    {
        var store = ImageCommandOptions.OpenStore(arguments.StoreRoot, error, "push");
        if (store is null) return 1;
        using var client = new RegistryClient(RegistryLoginOptions.ClientOptions(arguments.InsecureRegistries, arguments.Destination.Registry, credentials));
        try
        {
            output.WriteLine(arguments.Destination == arguments.Source ? $"Pushing {arguments.Source}" : $"Pushing {arguments.Source} to {arguments.Destination}");
            var pushed = await store.PushAsync(client, arguments.Source, arguments.Destination, new PullProgressPrinter(output, terminal, activity: "pushing", finished: "pushed"), cancellationToken);
            foreach (var blob in pushed.Blobs.Where(b => b.Outcome != BlobPushOutcome.Uploaded))
                output.WriteLine(blob.Outcome == BlobPushOutcome.Mounted
                    ? $"{blob.Descriptor.Digest.Short}: mounted from {arguments.Source.Repository}"
                    : $"{blob.Descriptor.Digest.Short}: already there");
            int uploaded = pushed.Blobs.Count(b => b.Outcome == BlobPushOutcome.Uploaded);
            output.WriteLine($"Pushed {pushed.Destination}: manifest {pushed.ManifestDigest}, {pushed.Blobs.Length} blob(s): {uploaded} uploaded " +
                $"({ImageCommandOptions.FormatBytes(pushed.UploadedBytes)}), {pushed.Blobs.Count(b => b.Outcome == BlobPushOutcome.Mounted)} mounted, " +
                $"{pushed.Blobs.Count(b => b.Outcome == BlobPushOutcome.AlreadyThere)} already there");
            return 0;
        }
        catch (ImageException e)
        {
            error.WriteLine($"sandbox push: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("sandbox push: interrupted; the registry may hold some of the blobs (a push again skips them), but no manifest was put.");
            return 130;
        }
    }
}
