using System.Collections.Immutable;
using Sandbox.Images;
using Sandbox.Images.Oci;
using Sandbox.Images.Store;

namespace Sandbox.Cli;

/// <summary>What <c>sandbox pull</c> was asked to do, checked.</summary>
/// <param name="Reference">The image to pull.</param>
/// <param name="StoreRoot">The store's directory.</param>
/// <param name="InsecureRegistries">Registries reached over plain HTTP.</param>
/// <param name="Platform">The platform to pick from a multi-platform image, or null for this host.</param>
internal sealed record PullArguments(ImageReference Reference, string StoreRoot, ImmutableArray<string> InsecureRegistries, Platform? Platform)
{
    /// <summary>When the layers are unpacked: during the pull (the default), or on first use (<c>--no-unpack</c>).</summary>
    public LayerUnpacking Unpacking { get; init; } = LayerUnpacking.Eager;

    /// <summary>Checks every value, collecting every problem.</summary>
    public static bool TryBind(string? reference, string? store, IEnumerable<string>? insecureRegistries, string? platform, string? storeVariable,
        out PullArguments? arguments, out IReadOnlyList<string> problems)
    {
        var found = new List<string>();
        arguments = null;
        if (!ImageCommandOptions.TryParseReference(reference, out var parsed, out string problem)) found.Add(problem);
        var hosts = ImmutableArray.CreateBuilder<string>();
        foreach (string host in insecureRegistries ?? [])
        {
            if (ImageCommandOptions.TryParseRegistryHost(host, out var ok, out string hostProblem)) hosts.Add(ok);
            else found.Add("--insecure-registry: " + hostProblem);
        }
        Platform? chosen = null;
        if (platform is not null && !ImageCommandOptions.TryParsePlatform(platform, out chosen, out string platformProblem))
            found.Add("--platform: " + platformProblem);
        problems = found;
        if (found.Count > 0) return false;
        arguments = new PullArguments(parsed!, ImageCommandOptions.ResolveStoreRoot(store, storeVariable), hosts.ToImmutable(), chosen);
        return true;
    }
}
