namespace Sandbox.Cgroups.V2;

/// <summary>v2 memory.events: counts of memory events in the cgroup and its descendants.</summary>
/// <param name="Low">low: reclaimed despite being under memory.low.</param>
/// <param name="High">high: throttled over memory.high.</param>
/// <param name="Max">max: usage was about to go over memory.max.</param>
/// <param name="Oom">oom: the limit was hit and allocations were about to fail.</param>
/// <param name="OomKill">oom_kill: processes the OOM killer killed.</param>
/// <param name="OomGroupKill">oom_group_kill (5.17+): group OOM kills, or null on older kernels.</param>
internal sealed record MemoryEvents(long Low, long High, long Max, long Oom, long OomKill, long? OomGroupKill)
{
    /// <summary>Parses the file; a missing counter is 0 except oom_group_kill (null).</summary>
    public static MemoryEvents Parse(string text)
    {
        IReadOnlyDictionary<string, long> values = FlatKeyedValues.Parse(text);
        return new MemoryEvents(
            values.GetValueOrDefault("low"),
            values.GetValueOrDefault("high"),
            values.GetValueOrDefault("max"),
            values.GetValueOrDefault("oom"),
            values.GetValueOrDefault("oom_kill"),
            FlatKeyedValues.Optional(values, "oom_group_kill"));
    }
}
