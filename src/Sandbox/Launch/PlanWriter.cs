using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Sandbox.RootFs;

namespace Sandbox.Launch;

/// <summary>
/// Serializes a <see cref="LaunchPlan"/> into the launcher's wire format: the header, the string-offset
/// arrays, the mount and rlimit records (8-byte aligned), then the NUL-terminated strings.
/// </summary>
internal static class PlanWriter
{
    public static byte[] Write(LaunchPlan plan)
    {
        if (plan.Mounts.Length > PlanConstants.MaxMountOps)
            throw new ArgumentException($"The plan has {plan.Mounts.Length} mount steps; the launcher takes at most {PlanConstants.MaxMountOps}.", nameof(plan));
        if (plan.ResourceLimits.Length > PlanConstants.MaxRlimits)
            throw new ArgumentException($"The plan has {plan.ResourceLimits.Length} resource limits; the launcher takes at most {PlanConstants.MaxRlimits}.", nameof(plan));
        if (plan.CgroupProcsFiles.Length > PlanConstants.MaxCgroupFiles)
            throw new ArgumentException($"The plan joins {plan.CgroupProcsFiles.Length} cgroups; the launcher takes at most {PlanConstants.MaxCgroupFiles}.", nameof(plan));
        if (!plan.CgroupProcsFds.IsDefaultOrEmpty && plan.CgroupProcsFds.Length != plan.CgroupProcsFiles.Length)
            throw new ArgumentException($"The plan has {plan.CgroupProcsFds.Length} cgroup.procs fds for {plan.CgroupProcsFiles.Length} files: give one per file, or none.", nameof(plan));
        if (plan.CgroupFd >= 0 && plan.CgroupProcsFiles.IsDefaultOrEmpty)
            throw new ArgumentException("The plan clones into a cgroup but names no cgroup.procs to fall back on where the kernel cannot.", nameof(plan));
        if (plan.Arguments.IsDefaultOrEmpty)
            throw new ArgumentException("The plan has no program to run.", nameof(plan));

        int headerSize = Unsafe.SizeOf<PlanHeader>();
        int argvOffset = Align(headerSize);
        int envpOffset = Align(argvOffset + 4 * plan.Arguments.Length);
        int mountsOffset = Align(envpOffset + 4 * plan.Environment.Length);
        int rlimitsOffset = Align(mountsOffset + Unsafe.SizeOf<MountOpRecord>() * plan.Mounts.Length);
        int cgroupsOffset = Align(rlimitsOffset + Unsafe.SizeOf<RlimitRecord>() * plan.ResourceLimits.Length);
        int cgroupFdsCount = plan.CgroupProcsFds.IsDefault ? 0 : plan.CgroupProcsFds.Length;
        int cgroupFdsOffset = Align(cgroupsOffset + 4 * plan.CgroupProcsFiles.Length);
        // The overlays' layer fds (int32 arrays, one per overlay that has them) follow the cgroup.procs fds.
        int layerFdsOffset = Align(cgroupFdsOffset + 4 * cgroupFdsCount);
        var layerFdOffsets = new uint[plan.Mounts.Length];
        int layerFdsEnd = layerFdsOffset;
        for (int i = 0; i < plan.Mounts.Length; i++)
        {
            var fds = plan.Mounts[i].LayerFds;
            if (fds.IsDefaultOrEmpty) continue;
            bool fits = plan.Mounts[i].Kind switch
            {
                MountOpKind.Overlay => fds.Length == plan.Mounts[i].Source!.Split(':').Length,
                MountOpKind.Attach => fds.Length == 1,
                _ => false,
            };
            if (!fits)
                throw new ArgumentException($"Mount step {i} has {fds.Length} layer fds: only an overlay has them, one per lower directory, and an attach, one.", nameof(plan));
            layerFdOffsets[i] = (uint)layerFdsEnd;
            layerFdsEnd += 4 * fds.Length;
        }
        int stringsOffset = Align(layerFdsEnd);

        var strings = new StringTable(stringsOffset);
        var header = new PlanHeader
        {
            Magic = PlanConstants.PlanMagic,
            Version = PlanConstants.PlanVersion,
            Flags = (uint)plan.Flags,
            CloneFlags = plan.CloneFlags,
            StdinFd = plan.StdinFd,
            StdoutFd = plan.StdoutFd,
            StderrFd = plan.StderrFd,
            ReportFd = plan.ReportFd,
            InitFd = plan.InitFd,
            NetNsFd = plan.NetworkNamespaceFd,
            SeccompFd = plan.SeccompFd,
            NotifyFd = plan.SeccompNotifyFd,
            CgroupFd = plan.CgroupFd,
            RootTemplateFd = plan.RootTemplateFd,
            RootNamespaceFd = plan.RootNamespaceFd,
            TemplateRootFlags = (uint)plan.TemplateRootFlags,
            Uid = plan.Uid,
            Gid = plan.Gid,
            SetupTimeoutMs = plan.SetupTimeoutMs,
            UidMap = strings.Add(plan.UidMap),
            GidMap = strings.Add(plan.GidMap),
            Hostname = strings.Add(plan.Hostname),
            RootStaging = strings.Add(plan.RootStaging),
            RootOptions = strings.Add(plan.RootOptions),
            Cwd = strings.Add(plan.WorkingDirectory),
            Argv = (uint)argvOffset,
            Argc = (uint)plan.Arguments.Length,
            Envp = (uint)envpOffset,
            Envc = (uint)plan.Environment.Length,
            Mounts = (uint)mountsOffset,
            MountCount = (uint)plan.Mounts.Length,
            Rlimits = (uint)rlimitsOffset,
            RlimitCount = (uint)plan.ResourceLimits.Length,
            CgroupProcs = (uint)cgroupsOffset,
            CgroupProcsCount = (uint)plan.CgroupProcsFiles.Length,
            CgroupProcsFds = cgroupFdsCount > 0 ? (uint)cgroupFdsOffset : 0,
        };

        var argv = plan.Arguments.Select(a => strings.Add(a)).ToArray();
        var envp = plan.Environment.Select(e => strings.Add(e)).ToArray();
        var mounts = plan.Mounts.Select((m, i) => new MountOpRecord
        {
            Kind = (uint)m.Kind,
            Flags = (uint)m.Flags,
            Source = strings.Add(m.Source),
            Target = strings.Add(SandboxPath.Relative(m.Target)),
            Data = strings.Add(m.Data, out uint dataLength),
            DataLength = dataLength,
            Mode = m.Mode,
            LayerFds = layerFdOffsets[i],
        }).ToArray();
        var cgroups = plan.CgroupProcsFiles.Select(f => strings.Add(f)).ToArray();
        var rlimits = plan.ResourceLimits.Select(r => new RlimitRecord { Resource = r.Resource, Soft = r.Soft, Hard = r.Hard }).ToArray();

        header.TotalSize = (uint)(stringsOffset + strings.Length);
        var block = new byte[header.TotalSize];
        MemoryMarshal.Write(block, in header);
        MemoryMarshal.AsBytes(argv.AsSpan()).CopyTo(block.AsSpan(argvOffset));
        MemoryMarshal.AsBytes(envp.AsSpan()).CopyTo(block.AsSpan(envpOffset));
        MemoryMarshal.AsBytes(mounts.AsSpan()).CopyTo(block.AsSpan(mountsOffset));
        MemoryMarshal.AsBytes(rlimits.AsSpan()).CopyTo(block.AsSpan(rlimitsOffset));
        MemoryMarshal.AsBytes(cgroups.AsSpan()).CopyTo(block.AsSpan(cgroupsOffset));
        if (cgroupFdsCount > 0)
            MemoryMarshal.AsBytes(plan.CgroupProcsFds.AsSpan()).CopyTo(block.AsSpan(cgroupFdsOffset));
        for (int i = 0; i < plan.Mounts.Length; i++)
            if (layerFdOffsets[i] != 0)
                MemoryMarshal.AsBytes(plan.Mounts[i].LayerFds.AsSpan()).CopyTo(block.AsSpan((int)layerFdOffsets[i]));
        strings.CopyTo(block.AsSpan(stringsOffset));
        return block;
    }

    private static int Align(int offset) => (offset + 7) & ~7;

    /// <summary>NUL-terminated UTF-8 strings appended after the records; identical strings are stored once.</summary>
    private sealed class StringTable(int baseOffset)
    {
        private readonly MemoryStream _bytes = new();
        private readonly Dictionary<string, (uint Offset, uint Length)> _seen = new(StringComparer.Ordinal);

        public int Length => (int)_bytes.Length;

        public uint Add(string? value) => Add(value, out _);

        public uint Add(string? value, out uint byteLength)
        {
            byteLength = 0;
            if (value is null) return 0;
            if (value.Contains('\0', StringComparison.Ordinal))
                throw new ArgumentException($"A plan string contains a NUL character: '{value.Replace("\0", "\\0", StringComparison.Ordinal)}'.");
            if (_seen.TryGetValue(value, out var known))
            {
                byteLength = known.Length;
                return known.Offset;
            }
            var encoded = Encoding.UTF8.GetBytes(value);
            uint offset = (uint)(baseOffset + _bytes.Length);
            _bytes.Write(encoded);
            _bytes.WriteByte(0);
            byteLength = (uint)encoded.Length;
            _seen[value] = (offset, byteLength);
            return offset;
        }

        public void CopyTo(Span<byte> destination) => _bytes.GetBuffer().AsSpan(0, Length).CopyTo(destination);
    }
}
