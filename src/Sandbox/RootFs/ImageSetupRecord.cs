using System.Collections.Immutable;
using System.Text.Json;

namespace Sandbox.RootFs;

/// <summary>
/// What the host wrote into a writable layer's setup directory for the last run on it (<c>setup/run.json</c>): each
/// runtime file as written (its SHA-256 and mode, so a commit can tell whether the program changed it), and the ids the
/// sandbox ran as and the host ids they were mapped to (so a commit maps owners back with the mapping the run used).
/// </summary>
/// <param name="Files">The runtime files (relative paths such as "etc/hosts") as the host wrote them.</param>
/// <param name="User">The ids the program ran as, inside the sandbox.</param>
/// <param name="HostUser">The host ids <paramref name="User"/> was mapped to (the owner of what it wrote, on disk).</param>
internal sealed record ImageSetupRecord(ImmutableArray<ImageSetupRecord.WrittenFile> Files, SandboxIdentity User, SandboxIdentity HostUser)
{
    /// <summary>A runtime file as the host wrote it.</summary>
    /// <param name="Path">Its path in the sandbox, relative ("etc/hosts").</param>
    /// <param name="Sha256">The SHA-256 of its contents, lower-case hex.</param>
    /// <param name="Mode">Its permission bits.</param>
    internal sealed record WrittenFile(string Path, string Sha256, uint Mode);

    public byte[] ToJson()
    {
        var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartArray("files");
            foreach (var file in Files)
            {
                json.WriteStartObject();
                json.WriteString("path", file.Path);
                json.WriteString("sha256", file.Sha256);
                json.WriteNumber("mode", file.Mode);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteString("user", User.ToString());
            json.WriteString("hostUser", HostUser.ToString());
            json.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>The record in <paramref name="bytes"/>, or null if it is not one (a crash mid-write, a hand edit).</summary>
    public static ImageSetupRecord? TryParse(byte[] bytes)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            var files = root.GetProperty("files").EnumerateArray()
                .Select(f => new WrittenFile(f.GetProperty("path").GetString()!, f.GetProperty("sha256").GetString()!, f.GetProperty("mode").GetUInt32()))
                .ToImmutableArray();
            return TryParseIds(root.GetProperty("user").GetString(), out var user) && TryParseIds(root.GetProperty("hostUser").GetString(), out var hostUser)
                ? new ImageSetupRecord(files, user, hostUser)
                : null;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or NullReferenceException)
        {
            return null;
        }
    }

    private static bool TryParseIds(string? text, out SandboxIdentity ids)
    {
        ids = default;
        var parts = (text ?? "").Split(':');
        if (parts.Length != 2 || !uint.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out uint uid)
            || !uint.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out uint gid))
            return false;
        ids = new SandboxIdentity(uid, gid);
        return true;
    }
}
