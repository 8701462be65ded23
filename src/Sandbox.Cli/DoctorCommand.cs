using System.CommandLine;

namespace Sandbox.Cli;

/// <summary><c>sandbox doctor</c>: what this host supports, each missing piece with its fix.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var doctor = new Command("doctor", "Check what this host supports (namespaces, cgroups, overlayfs, seccomp, KVM).");
        doctor.SetAction(_ =>
        {
            Console.Error.WriteLine("sandbox doctor: not built yet");
            return 1;
        });
        return doctor;
    }
}
