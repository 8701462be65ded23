namespace Sandbox.Diagnostics.Checks;

/// <summary>What backs /dev/kvm: hardware extensions (vmx, svm in /proc/cpuinfo) or something else (e.g. PVM, no extensions needed).</summary>
internal static class VirtualizationCheck
{
    public static HostCheck Run(HostFacts facts)
    {
        var log = new EvidenceLog(facts.Files);
        var cpu = CpuVirtualization.Read(facts.Files);
        log.Add(CpuVirtualization.CpuInfo, cpu.DescribeFlags());
        foreach (var module in CpuVirtualization.KnownModules)
            log.Add($"/sys/module/{module}", cpu.KvmModules.Contains(module) ? "present" : EvidenceLog.Absent);
        string modules = cpu.KvmModules.IsEmpty ? "no KVM module" : $"modules {string.Join(", ", cpu.KvmModules)} loaded";
        bool device = facts.Files.Exists(KvmCheck.Device);
        string guest = cpu.Hypervisor ? " (the 'hypervisor' flag: this kernel is itself a guest)" : "";

        if (cpu.Hardware)
            return log.Ok(HostCheckNames.Virtualization,
                $"Hardware: {(cpu.Vmx ? "Intel VT-x (vmx)" : "AMD-V (svm)")} in {CpuVirtualization.CpuInfo}{guest}; {modules}.");
        if (!cpu.HasFlags)
            return cpu.KvmModules.Contains("kvm") || device
                ? log.Ok(HostCheckNames.Virtualization,
                    $"{CpuVirtualization.CpuInfo} has no x86 flags line (another architecture: KVM uses its own extensions); {modules}.")
                : log.NotOk(HostCheckNames.Virtualization, HostCheckStatus.Unknown,
                    $"{CpuVirtualization.CpuInfo} has no x86 flags line and no KVM module is loaded.",
                    "Load KVM (modprobe kvm) if this architecture supports it.");
        if (cpu.KvmModules.Contains("kvm_pvm"))
            return log.NotOk(HostCheckNames.Virtualization, HostCheckStatus.Warning,
                $"Not hardware: no vmx or svm flag in {CpuVirtualization.CpuInfo}{guest}, but /sys/module/kvm_pvm is loaded: /dev/kvm is PVM, " +
                $"KVM's page-table based virtualization that runs guests without hardware extensions; {modules}.",
                "Guest kernels must support PVM (built with CONFIG_PVM_GUEST). For hardware virtualization, enable nested virtualization in the outer hypervisor so vmx or svm appears.");
        if (device)
            return log.NotOk(HostCheckNames.Virtualization, HostCheckStatus.Warning,
                $"Not hardware: no vmx or svm flag in {CpuVirtualization.CpuInfo}{guest}, yet {KvmCheck.Device} exists; {modules}: some other KVM backend.",
                "Check which module provides /dev/kvm (lsmod | grep kvm) and what guests it supports; for hardware virtualization, enable VT-x/AMD-V (or nested virtualization).");
        return log.NotOk(HostCheckNames.Virtualization, HostCheckStatus.Missing,
            $"No vmx or svm flag in {CpuVirtualization.CpuInfo}{guest} and no {KvmCheck.Device}.",
            "Enable VT-x/AMD-V in the firmware, or nested virtualization in the hypervisor running this VM (e.g. kvm_intel nested=1 on the outer host).");
    }
}
