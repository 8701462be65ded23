namespace Sandbox.Diagnostics;

/// <summary>One thing a check looked at: where (a file, or the action taken) and what it held.</summary>
/// <param name="Source">The file read, or what was done (e.g. <c>open(/dev/kvm, O_RDWR)</c>).</param>
/// <param name="Value">What it held or returned; <c>(absent)</c> when the file does not exist.</param>
public readonly record struct HostEvidence(string Source, string Value)
{
    /// <inheritdoc />
    public override string ToString() => $"{Source} = {Value}";
}
