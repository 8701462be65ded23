using System.Globalization;
using System.Text.Json;
using Sandbox.Seccomp.Tables;

namespace Sandbox.Seccomp.Profiles;

/// <summary>
/// Reads a Docker / OCI seccomp profile (JSON: defaultAction, defaultErrnoRet, architectures, archMap,
/// syscalls with names, action, errnoRet, args, includes and excludes) into a <see cref="SeccompPolicy"/>
/// for one architecture, the way Docker and runc set up libseccomp from it.
/// </summary>
/// <remarks>
/// <para>An entry applies when its <c>includes</c> hold (the target architecture is among <c>arches</c>,
/// every capability of <c>caps</c> is held, the kernel is at least <c>minKernel</c>) and its <c>excludes</c>
/// do not (the architecture is listed, any capability is held, the kernel is at least <c>minKernel</c>).
/// Its <c>args</c> make one rule with every condition (all must hold), except when two conditions test the
/// same argument: then, as runc does, each condition makes a rule of its own (any may hold).
/// <c>SCMP_CMP_MASKED_EQ</c> takes the mask from <c>value</c> and compares with <c>valueTwo</c>. An errno
/// action without <c>errnoRet</c> fails with EPERM. Rules are tried in file order.</para>
/// <para>Every problem (unknown action or operator, an argument index above 5, a value that is not an
/// unsigned 64-bit number, a malformed field) is reported at once, each with its JSON path.</para>
/// </remarks>
public static class DockerProfileImporter
{
    private static readonly string[] Operators =
        ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"];

    private static readonly string[] Actions =
        ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_TRACE", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"];

    /// <summary>libseccomp's architecture names.</summary>
    private static readonly HashSet<string> ScmpArchitectures = new(StringComparer.Ordinal)
    {
        "SCMP_ARCH_NATIVE", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
        "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
        "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
        "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
    };

    private static readonly HashSet<string> TopLevelKeys = new(StringComparer.Ordinal)
    {
        "defaultAction", "defaultErrnoRet", "architectures", "archMap", "syscalls", "flags", "listenerPath", "listenerMetadata",
    };

    private static readonly HashSet<string> SyscallKeys = new(StringComparer.Ordinal)
    {
        "names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes",
    };

    /// <summary>Reads the profile in <paramref name="path"/>.</summary>
    /// <exception cref="SeccompPolicyException">The profile is invalid: every problem, with its JSON path.</exception>
    public static ImportedSeccompProfile ImportFile(string path, DockerProfileOptions? options = null) =>
        Import(File.ReadAllText(path), options, $"The seccomp profile {path}");

    /// <summary>Reads the profile <paramref name="json"/>.</summary>
    /// <exception cref="SeccompPolicyException">The profile is invalid: every problem, with its JSON path.</exception>
    public static ImportedSeccompProfile Import(string json, DockerProfileOptions? options = null) =>
        Import(json, options, "The seccomp profile");

    private static ImportedSeccompProfile Import(string json, DockerProfileOptions? options, string what)
    {
        options ??= new DockerProfileOptions();
        var reader = new ProfileReader(options);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new SeccompPolicyException(what, [$"$: not valid JSON: {e.Message}"]);
        }
        using (document)
        {
            var result = reader.Read(document.RootElement);
            if (reader.Problems.Count > 0)
                throw new SeccompPolicyException(what, reader.Problems);
            return result;
        }
    }

    private sealed class ProfileReader(DockerProfileOptions options)
    {
        private readonly List<SyscallRule> _rules = [];
        private readonly List<string> _unknown = [];
        private readonly HashSet<string> _unknownNames = new(StringComparer.Ordinal);
        private readonly List<string> _notes = [];

        public List<string> Problems { get; } = [];

        private string GoArch => options.Architecture == SeccompArchitecture.X86_64 ? "amd64" : "arm64";

        private string ScmpArch => options.Architecture == SeccompArchitecture.X86_64 ? "SCMP_ARCH_X86_64" : "SCMP_ARCH_AARCH64";

        public ImportedSeccompProfile Read(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                Problems.Add($"$: a profile is a JSON object, not {Kind(root)}.");
                return Empty();
            }
            foreach (var property in root.EnumerateObject())
                if (!TopLevelKeys.Contains(property.Name))
                    _notes.Add($"$.{property.Name}: not a seccomp profile field; ignored.");

            uint? defaultErrno = root.TryGetProperty("defaultErrnoRet", out var defaultErrnoElement)
                ? ReadErrno(defaultErrnoElement, "$.defaultErrnoRet") : null;
            SeccompAction? defaultAction = root.TryGetProperty("defaultAction", out var defaultActionElement)
                ? ReadAction(defaultActionElement, defaultErrno, "$.defaultAction", "$.defaultErrnoRet")
                : Missing<SeccompAction>("$.defaultAction", "every profile names its default action, e.g. \"SCMP_ACT_ERRNO\"");

            ReadArchitectures(root);
            if (root.TryGetProperty("flags", out var flags) && flags.ValueKind == JsonValueKind.Array && flags.GetArrayLength() > 0)
                _notes.Add($"$.flags: filter flags ({string.Join(", ", flags.EnumerateArray().Select(f => f.ToString()))}) are not part of the policy; whoever loads the filter sets them.");
            if (root.TryGetProperty("listenerPath", out var listener) && listener.ValueKind == JsonValueKind.String && listener.GetString() is { Length: > 0 })
                _notes.Add("$.listenerPath: SCMP_ACT_NOTIFY needs a supervisor on the notification fd; the path is not used.");

            if (root.TryGetProperty("syscalls", out var syscalls))
            {
                if (syscalls.ValueKind == JsonValueKind.Array)
                {
                    int i = 0;
                    foreach (var entry in syscalls.EnumerateArray())
                        ReadEntry(entry, $"$.syscalls[{i++}]");
                }
                else if (syscalls.ValueKind != JsonValueKind.Null)
                    Problems.Add($"$.syscalls: must be an array of syscall entries, not {Kind(syscalls)}.");
            }

            NoteMixedActions();
            var policy = new SeccompPolicy(defaultAction ?? SeccompAction.KillProcess, _rules);
            foreach (var problem in policy.Validate())
                Problems.Add(problem);
            return new ImportedSeccompProfile(policy, _unknown, _notes);
        }

        private ImportedSeccompProfile Empty() => new(new SeccompPolicy(SeccompAction.KillProcess, []), _unknown, _notes);

        private void ReadArchitectures(JsonElement root)
        {
            var admitted = new List<string>();
            bool listed = false;
            if (root.TryGetProperty("architectures", out var architectures) && architectures.ValueKind != JsonValueKind.Null)
            {
                listed = true;
                foreach (var (name, path) in Strings(architectures, "$.architectures"))
                    if (CheckArchitecture(name, path))
                        admitted.Add(name);
            }
            if (root.TryGetProperty("archMap", out var archMap) && archMap.ValueKind != JsonValueKind.Null)
            {
                listed = true;
                if (archMap.ValueKind != JsonValueKind.Array)
                    Problems.Add($"$.archMap: must be an array of {{\"architecture\", \"subArchitectures\"}}, not {Kind(archMap)}.");
                else
                {
                    int i = 0;
                    foreach (var entry in archMap.EnumerateArray())
                    {
                        string path = $"$.archMap[{i++}]";
                        if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("architecture", out var arch) || arch.ValueKind != JsonValueKind.String)
                        {
                            Problems.Add($"{path}: must be an object with an \"architecture\" string.");
                            continue;
                        }
                        var subs = entry.TryGetProperty("subArchitectures", out var s) ? Strings(s, path + ".subArchitectures") : [];
                        bool known = CheckArchitecture(arch.GetString()!, path + ".architecture");
                        foreach (var (sub, subPath) in subs)
                            CheckArchitecture(sub, subPath);
                        if (known && arch.GetString() == ScmpArch)
                            admitted.AddRange([arch.GetString()!, .. subs.Select(x => x.Value)]);
                    }
                }
            }
            if (listed && !admitted.Contains(ScmpArch))
                _notes.Add($"$.architectures: the profile does not list {ScmpArch}; the filter is compiled for {options.Architecture.DisplayName()} anyway (libseccomp always admits the native architecture).");
            var others = admitted.Where(a => a != ScmpArch && a != "SCMP_ARCH_NATIVE").Distinct(StringComparer.Ordinal).ToList();
            if (others.Count > 0)
                _notes.Add($"$.architectures: the profile also admits {string.Join(", ", others)}; this filter admits {options.Architecture.DisplayName()} only and kills calls from any other architecture"
                    + (options.Architecture == SeccompArchitecture.X86_64 ? " (x32 syscall numbers included)." : "."));
        }

        private bool CheckArchitecture(string name, string path)
        {
            if (ScmpArchitectures.Contains(name))
                return true;
            Problems.Add($"{path}: unknown architecture '{name}': use a libseccomp name such as SCMP_ARCH_X86_64 or SCMP_ARCH_AARCH64.");
            return false;
        }

        private void ReadEntry(JsonElement entry, string path)
        {
            if (entry.ValueKind != JsonValueKind.Object)
            {
                Problems.Add($"{path}: a syscall entry is an object, not {Kind(entry)}.");
                return;
            }
            foreach (var property in entry.EnumerateObject())
                if (!SyscallKeys.Contains(property.Name))
                    _notes.Add($"{path}.{property.Name}: not a syscall entry field; ignored.");

            var names = new List<(string Value, string Path)>();
            if (entry.TryGetProperty("names", out var namesElement) && namesElement.ValueKind != JsonValueKind.Null)
                names.AddRange(Strings(namesElement, path + ".names"));
            if (entry.TryGetProperty("name", out var nameElement) && nameElement.ValueKind != JsonValueKind.Null)
            {
                if (nameElement.ValueKind == JsonValueKind.String)
                    names.Add((nameElement.GetString()!, path + ".name"));
                else
                    Problems.Add($"{path}.name: must be a string, not {Kind(nameElement)}.");
            }
            if (names.Count == 0)
                Problems.Add($"{path}: names no syscall: give \"names\": [\"...\"].");

            uint? errno = entry.TryGetProperty("errnoRet", out var errnoElement) && errnoElement.ValueKind != JsonValueKind.Null
                ? ReadErrno(errnoElement, path + ".errnoRet") : null;
            SeccompAction? action = entry.TryGetProperty("action", out var actionElement)
                ? ReadAction(actionElement, errno, path + ".action", path + ".errnoRet")
                : Missing<SeccompAction>(path + ".action", "every syscall entry has an action, e.g. \"SCMP_ACT_ALLOW\"");
            var conditions = entry.TryGetProperty("args", out var args) && args.ValueKind != JsonValueKind.Null
                ? ReadConditions(args, path + ".args") : [];
            bool applies = Applies(entry, "includes", path, include: true) & !Applies(entry, "excludes", path, include: false);

            foreach (var (name, namePath) in names)
            {
                if (name.Length == 0)
                {
                    Problems.Add($"{namePath}: an empty syscall name.");
                    continue;
                }
                if (!SyscallTable.IsKnownAnywhere(name))
                {
                    if (_unknownNames.Add(name))
                        _unknown.Add($"{namePath}: '{name}'");
                    if (options.RejectUnknownSyscalls)
                        Problems.Add($"{namePath}: '{name}' is not a syscall of x86_64 or aarch64"
                            + (SyscallTable.Suggest(name) is { } s ? $"; did you mean '{s}'?" : "; remove it or import with RejectUnknownSyscalls = false (Docker ignores it)."));
                    continue;
                }
                if (!applies || action is not { } act || conditions is null)
                    continue;
                // runc: conditions on distinct arguments make one rule; two on the same argument make one rule each.
                bool sameArgumentTwice = conditions.GroupBy(c => c.Index).Any(g => g.Count() > 1);
                if (sameArgumentTwice)
                    _rules.AddRange(conditions.Select(c => new SyscallRule(name, act, [c])));
                else
                    _rules.Add(new SyscallRule(name, act, [.. conditions]));
            }
        }

        private List<ArgumentCondition>? ReadConditions(JsonElement args, string path)
        {
            if (args.ValueKind != JsonValueKind.Array)
            {
                Problems.Add($"{path}: must be an array of {{\"index\", \"value\", \"valueTwo\", \"op\"}}, not {Kind(args)}.");
                return null;
            }
            var conditions = new List<ArgumentCondition>();
            bool ok = true;
            int i = 0;
            foreach (var arg in args.EnumerateArray())
            {
                string argPath = $"{path}[{i++}]";
                if (arg.ValueKind != JsonValueKind.Object)
                {
                    Problems.Add($"{argPath}: an argument condition is an object, not {Kind(arg)}.");
                    ok = false;
                    continue;
                }
                ulong? index = arg.TryGetProperty("index", out var indexElement) ? ReadUInt64(indexElement, argPath + ".index") : Missing<ulong>(argPath + ".index", "which argument, 0 to 5");
                if (index is >= ArgumentCondition.ArgumentCount)
                {
                    Problems.Add($"{argPath}.index: {index} is out of range: syscalls have arguments 0 to {ArgumentCondition.ArgumentCount - 1}.");
                    index = null;
                }
                ulong? value = arg.TryGetProperty("value", out var valueElement) ? ReadUInt64(valueElement, argPath + ".value") : Missing<ulong>(argPath + ".value", "the value to compare with");
                ulong? valueTwo = arg.TryGetProperty("valueTwo", out var valueTwoElement) && valueTwoElement.ValueKind != JsonValueKind.Null
                    ? ReadUInt64(valueTwoElement, argPath + ".valueTwo") : 0;
                ComparisonOperator? op = null;
                if (!arg.TryGetProperty("op", out var opElement))
                    Missing<int>(argPath + ".op", $"the comparison, one of {string.Join(", ", Operators)}");
                else if (opElement.ValueKind != JsonValueKind.String)
                    Problems.Add($"{argPath}.op: must be a string, one of {string.Join(", ", Operators)}; not {Kind(opElement)}.");
                else
                {
                    op = opElement.GetString() switch
                    {
                        "SCMP_CMP_NE" => ComparisonOperator.NotEqual,
                        "SCMP_CMP_LT" => ComparisonOperator.LessThan,
                        "SCMP_CMP_LE" => ComparisonOperator.LessOrEqual,
                        "SCMP_CMP_EQ" => ComparisonOperator.Equal,
                        "SCMP_CMP_GE" => ComparisonOperator.GreaterOrEqual,
                        "SCMP_CMP_GT" => ComparisonOperator.GreaterThan,
                        "SCMP_CMP_MASKED_EQ" => ComparisonOperator.MaskedEqual,
                        _ => null,
                    };
                    if (op is null)
                        Problems.Add($"{argPath}.op: unknown operator '{opElement.GetString()}': use one of {string.Join(", ", Operators)}.");
                }
                if (index is { } ix && value is { } v && valueTwo is { } v2 && op is { } o)
                    conditions.Add(o == ComparisonOperator.MaskedEqual
                        ? new ArgumentCondition((int)ix, o, v2, v)
                        : new ArgumentCondition((int)ix, o, v));
                else
                    ok = false;
            }
            return ok ? conditions : null;
        }

        /// <summary>Whether the entry's includes (all must hold) or excludes (any suffices) hold for the target.</summary>
        private bool Applies(JsonElement entry, string key, string path, bool include)
        {
            if (!entry.TryGetProperty(key, out var filter) || filter.ValueKind == JsonValueKind.Null)
                return include;
            string filterPath = $"{path}.{key}";
            if (filter.ValueKind != JsonValueKind.Object)
            {
                Problems.Add($"{filterPath}: must be an object with arches, caps, minKernel; not {Kind(filter)}.");
                return include;
            }
            var results = new List<bool>();
            if (filter.TryGetProperty("arches", out var arches) && arches.ValueKind != JsonValueKind.Null)
            {
                var list = Strings(arches, filterPath + ".arches").Select(a => a.Value).ToList();
                if (list.Count > 0)
                    results.Add(list.Contains(GoArch, StringComparer.Ordinal));
            }
            if (filter.TryGetProperty("caps", out var caps) && caps.ValueKind != JsonValueKind.Null)
            {
                var list = Strings(caps, filterPath + ".caps").Select(c => c.Value).ToList();
                if (list.Count > 0)
                    results.Add(include ? list.All(options.Capabilities.Contains) : list.Any(options.Capabilities.Contains));
            }
            if (filter.TryGetProperty("minKernel", out var minKernel) && minKernel.ValueKind != JsonValueKind.Null)
            {
                if (minKernel.ValueKind != JsonValueKind.String || !TryParseKernel(minKernel.GetString()!, out var min))
                    Problems.Add($"{filterPath}.minKernel: '{minKernel}' is not a kernel version such as \"4.8\".");
                else
                    results.Add(options.KernelVersion is null || options.KernelVersion >= min);
            }
            foreach (var property in filter.EnumerateObject())
                if (property.Name is not ("arches" or "caps" or "minKernel"))
                    _notes.Add($"{filterPath}.{property.Name}: not a filter field; ignored.");
            return include ? results.All(r => r) : results.Any(r => r);
        }

        private static bool TryParseKernel(string text, out Version version)
        {
            var parts = text.Split('.');
            version = new Version(0, 0);
            if (parts.Length is < 2 or > 3 || !parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                return false;
            version = new Version(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
            return true;
        }

        private SeccompAction? ReadAction(JsonElement element, uint? errno, string path, string errnoPath)
        {
            if (element.ValueKind != JsonValueKind.String)
            {
                Problems.Add($"{path}: must be a string, one of {string.Join(", ", Actions)}; not {Kind(element)}.");
                return null;
            }
            string name = element.GetString()!;
            bool takesErrno = name is "SCMP_ACT_ERRNO" or "SCMP_ACT_TRACE";
            if (errno is not null && !takesErrno && Actions.Contains(name))
            {
                Problems.Add($"{errnoPath}: {name} takes no errnoRet: remove it, or use SCMP_ACT_ERRNO.");
                return null;
            }
            int data = (int)(errno ?? LinuxErrno.EPERM);
            switch (name)
            {
                case "SCMP_ACT_ALLOW": return SeccompAction.Allow;
                case "SCMP_ACT_ERRNO": return SeccompAction.Errno(data);
                case "SCMP_ACT_KILL" or "SCMP_ACT_KILL_THREAD": return SeccompAction.KillThread;
                case "SCMP_ACT_KILL_PROCESS": return SeccompAction.KillProcess;
                case "SCMP_ACT_TRAP": return SeccompAction.Trap;
                case "SCMP_ACT_TRACE": return SeccompAction.Trace(data);
                case "SCMP_ACT_LOG": return SeccompAction.Log;
                case "SCMP_ACT_NOTIFY": return SeccompAction.UserNotify;
                default:
                    Problems.Add($"{path}: unknown action '{name}': use one of {string.Join(", ", Actions)}.");
                    return null;
            }
        }

        private uint? ReadErrno(JsonElement element, string path)
        {
            if (ReadUInt64(element, path) is not { } value)
                return null;
            if (value > SeccompAction.MaxErrno)
            {
                Problems.Add($"{path}: {value} is not an errno: use 0 to {SeccompAction.MaxErrno}.");
                return null;
            }
            return (uint)value;
        }

        private ulong? ReadUInt64(JsonElement element, string path)
        {
            if (element.ValueKind == JsonValueKind.Number && element.TryGetUInt64(out ulong value))
                return value;
            Problems.Add($"{path}: {element.GetRawText()} is not an unsigned 64-bit integer.");
            return null;
        }

        private List<(string Value, string Path)> Strings(JsonElement element, string path)
        {
            var list = new List<(string, string)>();
            if (element.ValueKind == JsonValueKind.Null)
                return list;
            if (element.ValueKind != JsonValueKind.Array)
            {
                Problems.Add($"{path}: must be an array of strings, not {Kind(element)}.");
                return list;
            }
            int i = 0;
            foreach (var item in element.EnumerateArray())
            {
                string itemPath = $"{path}[{i++}]";
                if (item.ValueKind == JsonValueKind.String)
                    list.Add((item.GetString()!, itemPath));
                else
                    Problems.Add($"{itemPath}: must be a string, not {Kind(item)}.");
            }
            return list;
        }

        private T? Missing<T>(string path, string what)
            where T : struct
        {
            Problems.Add($"{path}: missing: {what}.");
            return null;
        }

        private void NoteMixedActions()
        {
            foreach (var group in _rules.GroupBy(r => r.Syscall, StringComparer.Ordinal))
            {
                var actions = group.Select(r => r.Action).Distinct().ToList();
                if (actions.Count > 1)
                    _notes.Add($"'{group.Key}' has rules with different actions ({string.Join(", ", actions)}); the first that matches, in file order, decides.");
            }
        }

        private static string Kind(JsonElement element) => element.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => $"the string {element.GetRawText()}",
            JsonValueKind.Number => $"the number {element.GetRawText()}",
            JsonValueKind.True or JsonValueKind.False => element.GetRawText(),
            _ => "null",
        };
    }
}
