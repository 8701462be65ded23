using System.Globalization;

namespace Sandbox.Diagnostics.Checks;

/// <summary>
/// The sysctls that decide whether this user may create a user namespace (and the other namespaces a sandbox gets):
/// user.max_*_namespaces, Debian's kernel.unprivileged_userns_clone, Ubuntu's kernel.apparmor_restrict_unprivileged_userns.
/// The trial sandbox proves the verdict.
/// </summary>
internal static class UserNamespaceCheck
{
    public const string UserNamespaceLink = "/proc/self/ns/user";
    public const string MaxUserNamespaces = "/proc/sys/user/max_user_namespaces";
    public const string UnprivilegedUsernsClone = "/proc/sys/kernel/unprivileged_userns_clone";
    public const string AppArmorRestrict = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns";

    /// <summary>The other namespaces the default sandbox creates, by their /proc/sys/user limit's name.</summary>
    private static readonly string[] OtherNamespaces = ["mnt", "pid", "net", "ipc", "uts", "cgroup"];

    public static HostCheck Run(HostFacts facts)
    {
        var log = new EvidenceLog(facts.Files);
        if (!log.Exists(UserNamespaceLink))
            return log.NotOk(HostCheckNames.UserNamespaces, HostCheckStatus.Missing,
                $"{UserNamespaceLink} does not exist: the kernel was built without user namespaces.",
                "Use a kernel built with CONFIG_USER_NS=y (every mainstream distribution kernel is).", required: true);

        // Both restrictions below spare a process holding CAP_SYS_ADMIN; an unknown identity is judged as unprivileged.
        bool privileged = facts.Credentials?.Has(ProcessCredentials.CapSysAdmin) == true;
        string who = privileged ? " with CAP_SYS_ADMIN" : $" for {facts.UserName}";
        var problems = new List<string>();
        var fixes = new List<string>();
        var notes = new List<string>();

        string? max = log.Read(MaxUserNamespaces);
        if (max is null)
            notes.Add("user.max_user_namespaces absent (no limit)");
        else if (!long.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out long limit))
            notes.Add($"user.max_user_namespaces = '{max}' (not a number)");
        else if (limit == 0)
        {
            problems.Add("user.max_user_namespaces = 0 forbids user namespaces to everyone");
            fixes.Add($"Run {SysctlFix("user.max_user_namespaces", "15000")}.");
        }
        else
            notes.Add($"user.max_user_namespaces = {limit}");

        string? clone = log.Read(UnprivilegedUsernsClone);
        if (clone is null)
            notes.Add("kernel.unprivileged_userns_clone absent");
        else if (clone == "1")
            notes.Add("kernel.unprivileged_userns_clone = 1");
        else if (privileged)
            notes.Add($"kernel.unprivileged_userns_clone = {clone} (spares CAP_SYS_ADMIN)");
        else
        {
            problems.Add($"kernel.unprivileged_userns_clone = {clone} forbids user namespaces to unprivileged users");
            fixes.Add($"Run {SysctlFix("kernel.unprivileged_userns_clone", "1")}.");
        }

        string? apparmor = log.Read(AppArmorRestrict);
        if (apparmor is null)
            notes.Add("kernel.apparmor_restrict_unprivileged_userns absent");
        else if (apparmor == "0")
            notes.Add("kernel.apparmor_restrict_unprivileged_userns = 0");
        else if (privileged)
            notes.Add($"kernel.apparmor_restrict_unprivileged_userns = {apparmor} (spares CAP_SYS_ADMIN)");
        else
        {
            problems.Add($"kernel.apparmor_restrict_unprivileged_userns = {apparmor} denies unconfined programs the capabilities they need inside a user namespace");
            fixes.Add("Give the program an AppArmor profile with the `userns,` rule (Ubuntu 23.10+'s way), or run " +
                SysctlFix("kernel.apparmor_restrict_unprivileged_userns", "0") + ".");
        }

        foreach (var ns in OtherNamespaces)
        {
            string key = $"user.max_{ns}_namespaces";
            string? value = facts.Files.TryReadText($"/proc/sys/user/max_{ns}_namespaces")?.Trim();
            if (value == "0")
            {
                log.Add($"/proc/sys/user/max_{ns}_namespaces", value);
                problems.Add($"{key} = 0 forbids the sandbox's {ns} namespace");
                fixes.Add($"Run {SysctlFix(key, "15000")}.");
            }
        }

        if (problems.Count > 0)
            return log.NotOk(HostCheckNames.UserNamespaces, HostCheckStatus.Missing,
                $"Not allowed{who}: {string.Join("; ", problems)}.",
                string.Join(" ", fixes), required: true);
        return log.Ok(HostCheckNames.UserNamespaces, $"Allowed{who}: {string.Join("; ", notes)}.", required: true);
    }

    private static string SysctlFix(string key, string value) =>
        $"sysctl -w {key}={value} (keep it: echo '{key} = {value}' > /etc/sysctl.d/90-sandbox.conf)";
}
