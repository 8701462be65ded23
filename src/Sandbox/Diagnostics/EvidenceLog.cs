using System.Collections.Immutable;

namespace Sandbox.Diagnostics;

/// <summary>Collects what one check read and did, and turns its conclusion into a <see cref="HostCheck"/>.</summary>
internal sealed class EvidenceLog(IHostFiles files)
{
    public const string Absent = "(absent)";

    private readonly ImmutableArray<HostEvidence>.Builder _items = ImmutableArray.CreateBuilder<HostEvidence>();

    /// <summary>Reads a one-value file (a sysctl, a controller list) and records it; null if absent or unreadable.</summary>
    public string? Read(string path)
    {
        string? text = files.TryReadText(path)?.Trim();
        Add(path, text is null ? Absent : text.Length == 0 ? "(empty)" : text.ReplaceLineEndings(" "));
        return text;
    }

    /// <summary>Whether something exists at <paramref name="path"/>, recorded as present or absent.</summary>
    public bool Exists(string path)
    {
        bool exists = files.Exists(path);
        Add(path, exists ? "present" : Absent);
        return exists;
    }

    public void Add(string source, string value) => _items.Add(new HostEvidence(source, value));

    public HostCheck Ok(string name, string finding, bool required = false) =>
        new(name, HostCheckStatus.Ok, required, finding, _items.ToImmutable(), null);

    public HostCheck NotOk(string name, HostCheckStatus status, string finding, string fix, bool required = false) =>
        new(name, status, required, finding, _items.ToImmutable(), fix);
}
