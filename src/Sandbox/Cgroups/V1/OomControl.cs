namespace Sandbox.Cgroups.V1;

/// <summary>v1 memory.oom_control: "oom_kill_disable 0", "under_oom 0", "oom_kill N" (4.13+).</summary>
/// <param name="OomKillDisable">Whether the OOM killer is disabled for the cgroup (tasks then wait instead of dying).</param>
/// <param name="UnderOom">Whether the cgroup is out of memory right now.</param>
/// <param name="OomKills">Processes the OOM killer killed in the cgroup, or null on kernels before 4.13.</param>
internal sealed record OomControl(bool OomKillDisable, bool UnderOom, long? OomKills)
{
    /// <summary>Parses the file; <see cref="FormatException"/> if under_oom is missing.</summary>
    public static OomControl Parse(string text)
    {
        IReadOnlyDictionary<string, long> values = FlatKeyedValues.Parse(text);
        return new OomControl(
            values.GetValueOrDefault("oom_kill_disable") != 0,
            FlatKeyedValues.Required(values, "under_oom", "memory.oom_control") != 0,
            FlatKeyedValues.Optional(values, "oom_kill"));
    }
}
