using System.Globalization;

namespace Sandbox.Diagnostics.Checks;

/// <summary>/dev/kvm (the micro-VM backend): it exists and this user can open it read-write.</summary>
internal static class KvmCheck
{
    public const string Device = "/dev/kvm";

    public static HostCheck Run(HostFacts facts)
    {
        var log = new EvidenceLog(facts.Files);
        if (!facts.Files.Exists(Device))
        {
            log.Add(Device, EvidenceLog.Absent);
            var cpu = CpuVirtualization.Read(facts.Files);
            log.Add(CpuVirtualization.CpuInfo, cpu.DescribeFlags());
            string fix = cpu.Hardware
                ? $"The CPU offers {(cpu.Vmx ? "VT-x (vmx)" : "AMD-V (svm)")} but KVM is not loaded: modprobe {(cpu.Vmx ? "kvm_intel" : "kvm_amd")}."
                : "This machine exposes no hardware virtualization: enable VT-x/AMD-V in the firmware, or nested virtualization in the hypervisor running this VM, then load kvm_intel or kvm_amd.";
            return log.NotOk(HostCheckNames.Kvm, HostCheckStatus.Missing, $"{Device} does not exist.", fix);
        }

        var status = facts.Files.TryGetStatus(Device);
        string? group = status is null ? null : EtcNames.GroupName(facts.Files, status.Gid);
        string described = status is null ? "" : $" ({status.ModeString}, owner {status.Uid}, group {status.Gid}{(group is null ? "" : $" '{group}'")})";
        log.Add(Device, status is null ? "present (owner and mode unknown)" : $"{status}{(group is null ? "" : $" ({group})")}");
        string? error = facts.Files.TryOpen(Device, FileAccess.ReadWrite);
        log.Add($"open({Device}, O_RDWR)", error ?? "opened (closed at once)");
        if (error is null)
            return log.Ok(HostCheckNames.Kvm, $"{Device}{described} opens read-write for {facts.UserName}.");

        string uid = facts.Credentials?.Uid.ToString(CultureInfo.InvariantCulture) ?? "UID";
        string user = facts.Credentials is { } c ? EtcNames.UserName(facts.Files, c.Uid) ?? uid : "USER";
        const UnixFileMode GroupReadWrite = UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        string grant = (status, group) switch
        {
            ({ Gid: not 0 } s, not null) when (s.Mode & GroupReadWrite) == GroupReadWrite =>
                $"Add {user} to group '{group}': usermod -aG {group} {user} (takes effect at the next login)",
            ({ Gid: not 0 }, not null) =>
                $"Let group '{group}' use it and join it: chmod 660 {Device}; usermod -aG {group} {user} (takes effect at the next login)",
            _ => $"Give {Device} to a kvm group: groupadd -r kvm; chgrp kvm {Device}; chmod 660 {Device} (keep it with the udev rule KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\"), then usermod -aG kvm {user}",
        };
        return log.NotOk(HostCheckNames.Kvm, HostCheckStatus.Missing,
            $"{Device}{described} exists but {facts.UserName} cannot open it read-write: {error}.",
            $"{grant}; or grant only this user: setfacl -m u:{uid}:rw {Device}.");
    }
}
