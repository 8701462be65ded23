using System.CommandLine;
using Sandbox.Images;
using Sandbox.Images.Registry;
using Sandbox.Images.Store;

namespace Sandbox.Cli;

/// <summary>
/// <c>sandbox pull REF [--store DIR] [--insecure-registry HOST]... [--platform OS/ARCH] [--no-unpack] [--username NAME --password-stdin]</c>:
/// pulls an image from its registry into the store; with <c>--no-unpack</c> only the verified compressed blobs are
/// stored, and each layer is unpacked the first time a run (or a commit) needs it.
/// </summary>
internal static class PullCommand
{
    public static Command Create()
    {
        var reference = new Argument<string>("reference") { Description = "The image, e.g. busybox, debian:12 or 127.0.0.1:5000/app:1 (loopback registries use plain HTTP)." };
        var store = ImageCommandOptions.CreateStoreOption();
        var insecure = RegistryLoginOptions.CreateInsecureRegistryOption();
        var platform = new Option<string?>("--platform") { Description = "The platform to pick from a multi-platform image, e.g. linux/arm64 (default: this host's)." };
        var username = RegistryLoginOptions.CreateUsernameOption();
        var passwordStdin = RegistryLoginOptions.CreatePasswordStdinOption();
        var noUnpack = new Option<bool>("--no-unpack")
        {
            Description = "Store the layers' compressed blobs only (digest and size verified, as skopeo copy to an OCI layout does); each layer is unpacked, "
                + "and its diff id verified, the first time 'sandbox run --image' (or a commit) needs it. Faster pulls; the first run pays the unpacking.",
        };
        var pull = new Command("pull", "Pull an image from a registry into the image store (layers verified and unpacked once).") { reference, store, insecure, platform, noUnpack, username, passwordStdin };
        pull.SetAction(async (parse, cancellationToken) =>
        {
            bool bound = PullArguments.TryBind(parse.GetValue(reference), parse.GetValue(store), parse.GetValue(insecure), parse.GetValue(platform),
                Environment.GetEnvironmentVariable(ImageCommandOptions.StoreVariable), out var arguments, out var problems);
            var all = problems.ToList();
            if (!RegistryLoginOptions.TryResolve(parse, username, passwordStdin, out var credentials, out string loginProblem)) all.Add(loginProblem);
            if (!bound || all.Count > 0)
                return RegistryLoginOptions.ReportUsage("pull", all);
            var chosen = arguments! with { Unpacking = parse.GetValue(noUnpack) ? LayerUnpacking.OnFirstUse : LayerUnpacking.Eager };
            return await RunAsync(chosen, credentials, Console.Out, Console.Error, !Console.IsOutputRedirected, cancellationToken);
        });
        return pull;
    }

    internal static async Task<int> RunAsync(PullArguments arguments, RegistryCredentials? credentials, TextWriter output, TextWriter error, bool terminal, CancellationToken cancellationToken)
    {
        var store = ImageCommandOptions.OpenStore(arguments.StoreRoot, error, "pull");
        if (store is null) return 1;
        using var client = new RegistryClient(RegistryLoginOptions.ClientOptions(arguments.InsecureRegistries, arguments.Reference.Registry, credentials));
        try
        {
            output.WriteLine($"Pulling {arguments.Reference}");
            var options = new ImagePullOptions { Platform = arguments.Platform, Unpacking = arguments.Unpacking };
            var image = await store.PullAsync(client, arguments.Reference, options, new PullProgressPrinter(output, terminal), cancellationToken);
            output.WriteLine($"Pulled {image.Reference}: manifest {image.ManifestDigest}, {image.Layers.Length} layer(s), {image.Config.Platform}"
                + (arguments.Unpacking == LayerUnpacking.OnFirstUse ? "; layers stored compressed, unpacked on first run" : ""));
            return 0;
        }
        catch (ImageException e)
        {
            error.WriteLine($"sandbox pull: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("sandbox pull: interrupted; nothing partial was kept.");
            return 130;
        }
    }
}
