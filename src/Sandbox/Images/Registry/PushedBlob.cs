using Sandbox.Images.Oci;

namespace Sandbox.Images.Registry;

/// <summary>One blob of a push and what pushing it took.</summary>
/// <param name="Descriptor">The blob (a layer or the config) as the manifest names it.</param>
/// <param name="Outcome">Already there, mounted from another repository, or uploaded.</param>
public sealed record PushedBlob(Descriptor Descriptor, BlobPushOutcome Outcome);
