using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sandbox.Diagnostics;

namespace Sandbox.Cli;

/// <summary><c>sandbox doctor [--json]</c>: what this host supports, each missing piece with its fix.</summary>
/// <remarks>Exits 0 when the default sandbox works here (<see cref="HostReport.CanRunSandboxes"/>), 1 otherwise.</remarks>
internal static class DoctorCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (camelCase) instead of a table." };
        var doctor = new Command("doctor", "Check what this host supports (namespaces, cgroups, overlayfs, seccomp, KVM), with a fix for each missing piece.")
        {
            json,
        };
        doctor.SetAction(async (parse, cancellationToken) =>
        {
            HostReport report;
            try
            {
                report = await HostProbe.RunAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("sandbox doctor: interrupted.");
                return 130;
            }
            Console.Out.Write(parse.GetValue(json) ? JsonSerializer.Serialize(report, JsonOptions) + Environment.NewLine : FormatTable(report));
            return report.CanRunSandboxes ? 0 : 1;
        });
        return doctor;
    }

    /// <summary>One line per check (mark, name, finding), the fix indented on the next line when it is not ok, then the verdict.</summary>
    internal static string FormatTable(HostReport report)
    {
        int nameWidth = report.Checks.Max(c => c.Name.Length);
        var text = new System.Text.StringBuilder();
        foreach (var check in report.Checks)
        {
            text.Append($"{Mark(check.Status),-7} {check.Name.PadRight(nameWidth)}  {check.Finding}").AppendLine();
            if (check.Fix is { } fix)
                text.Append($"{"",-7} {"".PadRight(nameWidth)}  fix: {fix}").AppendLine();
        }
        text.AppendLine();
        var blocking = report.Blocking.Select(c => c.Name).ToList();
        text.AppendLine(report.CanRunSandboxes
            ? "Sandboxes can run on this host."
            : $"Sandboxes cannot run on this host: {string.Join(", ", blocking)} {(blocking.Count == 1 ? "is" : "are")} not ok (see the fixes above).");
        return text.ToString();
    }

    private static string Mark(HostCheckStatus status) => status switch
    {
        HostCheckStatus.Ok => "ok",
        HostCheckStatus.Missing => "MISSING",
        HostCheckStatus.Warning => "warn",
        _ => "unknown",
    };
}
