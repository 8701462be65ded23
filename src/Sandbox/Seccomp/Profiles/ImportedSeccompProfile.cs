namespace Sandbox.Seccomp.Profiles;

/// <summary>What <see cref="DockerProfileImporter"/> made of a profile.</summary>
/// <param name="Policy">The policy, for <see cref="DockerProfileOptions.Architecture"/>.</param>
/// <param name="UnknownSyscalls">Names the profile lists that no supported architecture has, each with where it is (ignored, as Docker does).</param>
/// <param name="Notes">What the import could not carry over or decided, e.g. sub-architectures the filter does not admit.</param>
public sealed record ImportedSeccompProfile(SeccompPolicy Policy, IReadOnlyList<string> UnknownSyscalls, IReadOnlyList<string> Notes);
