using System.Collections.Immutable;

namespace Sandbox.Diagnostics;

/// <summary>What the CPU flags in /proc/cpuinfo and the loaded KVM modules in /sys/module say about virtualization.</summary>
/// <param name="HasFlags">Whether /proc/cpuinfo has a <c>flags</c> line at all (x86 does; arm64 lists <c>Features</c>).</param>
/// <param name="Vmx">Intel VT-x.</param>
/// <param name="Svm">AMD-V.</param>
/// <param name="Hypervisor">The CPU reports that this kernel runs under a hypervisor (a guest).</param>
/// <param name="KvmModules">Which of kvm, kvm_intel, kvm_amd and kvm_pvm are present under /sys/module.</param>
internal sealed record CpuVirtualization(bool HasFlags, bool Vmx, bool Svm, bool Hypervisor, ImmutableArray<string> KvmModules)
{
    public const string CpuInfo = "/proc/cpuinfo";

    /// <summary>The KVM modules worth naming: the core, the two hardware ones, and PVM (page-table based, no hardware extensions).</summary>
    public static readonly ImmutableArray<string> KnownModules = ["kvm", "kvm_intel", "kvm_amd", "kvm_pvm"];

    /// <summary>Whether hardware virtualization extensions are exposed to this kernel.</summary>
    public bool Hardware => Vmx || Svm;

    public static CpuVirtualization Read(IHostFiles files)
    {
        var flags = FlagsOf(files.TryReadText(CpuInfo));
        return new CpuVirtualization(flags is not null, flags?.Contains("vmx") == true, flags?.Contains("svm") == true,
            flags?.Contains("hypervisor") == true, [.. KnownModules.Where(m => files.Exists($"/sys/module/{m}"))]);
    }

    /// <summary>The tokens of the first <c>flags</c> line of /proc/cpuinfo (every CPU lists the same), or null if there is none.</summary>
    public static HashSet<string>? FlagsOf(string? cpuInfo)
    {
        foreach (var line in (cpuInfo ?? "").Split('\n'))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim() == "flags")
                return new HashSet<string>(line[(colon + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
        }
        return null;
    }

    /// <summary>"vmx yes, svm no, hypervisor yes" — what the flags line says, for the evidence.</summary>
    public string DescribeFlags() =>
        HasFlags ? $"vmx {(Vmx ? "yes" : "no")}, svm {(Svm ? "yes" : "no")}, hypervisor {(Hypervisor ? "yes" : "no")}" : "(no flags line)";
}
