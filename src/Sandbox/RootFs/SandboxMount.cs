namespace Sandbox;

/// <summary>A mount the user adds on top of the sandbox's root file system.</summary>
/// <param name="Target">Where it appears inside the sandbox (absolute).</param>
public abstract record SandboxMount(string Target);

/// <summary>A host file or directory bound into the sandbox.</summary>
/// <param name="Source">The host path; it must not pass through a symbolic link.</param>
/// <param name="Target">Where it appears inside the sandbox.</param>
/// <param name="Writable">False (the default) mounts it read-only.</param>
public sealed record BindMount(string Source, string Target, bool Writable = false) : SandboxMount(Target);

/// <summary>A fresh, empty, writable tmpfs.</summary>
/// <param name="Target">Where it appears inside the sandbox.</param>
/// <param name="SizeBytes">Its size cap.</param>
public sealed record TmpfsMount(string Target, long SizeBytes) : SandboxMount(Target);
