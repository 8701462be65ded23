namespace Sandbox.Cgroups.V1;

/// <summary>Reads and writes <see cref="FreezerState"/> as freezer.state does (THAWED, FREEZING, FROZEN).</summary>
internal static class FreezerStateFormat
{
    /// <summary>Parses the file.</summary>
    public static FreezerState Parse(string text) => text.Trim() switch
    {
        "THAWED" => FreezerState.Thawed,
        "FREEZING" => FreezerState.Freezing,
        "FROZEN" => FreezerState.Frozen,
        var other => throw new FormatException($"Not a freezer state: '{other}'."),
    };

    /// <summary>The text (only THAWED and FROZEN may be written).</summary>
    public static string Format(FreezerState state) => state switch
    {
        FreezerState.Thawed => "THAWED",
        FreezerState.Freezing => "FREEZING",
        FreezerState.Frozen => "FROZEN",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };
}
