namespace Sandbox.Cgroups.V2;

/// <summary>v2 cgroup.events.</summary>
/// <param name="Populated">populated: the cgroup or a descendant has live processes.</param>
/// <param name="Frozen">frozen (5.2+): the cgroup is frozen (false on older kernels).</param>
internal sealed record CgroupEvents(bool Populated, bool Frozen)
{
    /// <summary>Parses the file; <see cref="FormatException"/> if "populated" is missing.</summary>
    public static CgroupEvents Parse(string text)
    {
        IReadOnlyDictionary<string, long> values = FlatKeyedValues.Parse(text);
        return new CgroupEvents(
            FlatKeyedValues.Required(values, "populated", "cgroup.events") != 0,
            values.GetValueOrDefault("frozen") != 0);
    }
}
