using System.Collections.Immutable;
using Sandbox.Images;

namespace Sandbox.Cli;

/// <summary>What <c>sandbox push</c> was asked to do, checked.</summary>
/// <param name="Source">The stored image to push.</param>
/// <param name="Destination">Where to push it (the source's own name when not given).</param>
/// <param name="StoreRoot">The store's directory.</param>
/// <param name="InsecureRegistries">Registries reached over plain HTTP.</param>
internal sealed record PushArguments(ImageReference Source, ImageReference Destination, string StoreRoot, ImmutableArray<string> InsecureRegistries)
{
    /// <summary>Checks every value, collecting every problem.</summary>
    public static bool TryBind(string? source, string? destination, string? store, IEnumerable<string>? insecureRegistries, string? storeVariable,
        out PushArguments? arguments, out IReadOnlyList<string> problems)
    {
        var found = new List<string>();
        arguments = null;
        if (!ImageCommandOptions.TryParseReference(source, out var parsedSource, out string problem)) found.Add(problem);
        ImageReference? parsedDestination = null;
        if (destination is not null && !ImageCommandOptions.TryParseReference(destination, out parsedDestination, out string destinationProblem))
            found.Add("DEST: " + destinationProblem);
        var hosts = ImmutableArray.CreateBuilder<string>();
        foreach (string host in insecureRegistries ?? [])
        {
            if (ImageCommandOptions.TryParseRegistryHost(host, out var ok, out string hostProblem)) hosts.Add(ok);
            else found.Add("--insecure-registry: " + hostProblem);
        }
        problems = found;
        if (found.Count > 0) return false;
        arguments = new PushArguments(parsedSource!, parsedDestination ?? parsedSource!, ImageCommandOptions.ResolveStoreRoot(store, storeVariable), hosts.ToImmutable());
        return true;
    }
}
