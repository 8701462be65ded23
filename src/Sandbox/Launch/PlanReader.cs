using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Sandbox.Launch;

/// <summary>
/// Reads a wire plan back into a <see cref="LaunchPlan"/>, checking every offset against the block's
/// size as the launcher does: the inverse of <see cref="PlanWriter"/>, used to inspect and test plans.
/// </summary>
internal static class PlanReader
{
    public static LaunchPlan Read(ReadOnlySpan<byte> block)
    {
        if (block.Length < Unsafe.SizeOf<PlanHeader>())
            throw new FormatException("The plan is shorter than its header.");
        var h = MemoryMarshal.Read<PlanHeader>(block);
        if (h.Magic != PlanConstants.PlanMagic || h.Version != PlanConstants.PlanVersion)
            throw new FormatException($"Not a version {PlanConstants.PlanVersion} plan (magic 0x{h.Magic:x8}, version {h.Version}).");
        if (h.TotalSize != block.Length)
            throw new FormatException($"The plan says it is {h.TotalSize} bytes but is {block.Length}.");

        var argv = Offsets(block, h.Argv, h.Argc);
        var envp = Offsets(block, h.Envp, h.Envc);
        var mounts = Records<MountOpRecord>(block, h.Mounts, h.MountCount);
        var rlimits = Records<RlimitRecord>(block, h.Rlimits, h.RlimitCount);
        var cgroups = Offsets(block, h.CgroupProcs, h.CgroupProcsCount);
        int[] cgroupFds = h.CgroupProcsFds == 0 ? [] : [.. Offsets(block, h.CgroupProcsFds, h.CgroupProcsCount).Select(v => (int)v)];
        var b = block.ToArray();

        return new LaunchPlan
        {
            Flags = (PlanFlags)h.Flags,
            CloneFlags = h.CloneFlags,
            StdinFd = h.StdinFd,
            StdoutFd = h.StdoutFd,
            StderrFd = h.StderrFd,
            ReportFd = h.ReportFd,
            InitFd = h.InitFd,
            NetworkNamespaceFd = h.NetNsFd,
            SeccompFd = h.SeccompFd,
            SeccompNotifyFd = h.NotifyFd,
            CgroupFd = h.CgroupFd,
            RootTemplateFd = h.RootTemplateFd,
            RootNamespaceFd = h.RootNamespaceFd,
            TemplateRootFlags = (MountFlags)h.TemplateRootFlags,
            Uid = h.Uid,
            Gid = h.Gid,
            SetupTimeoutMs = h.SetupTimeoutMs,
            UidMap = Str(b, h.UidMap),
            GidMap = Str(b, h.GidMap),
            Hostname = Str(b, h.Hostname),
            RootStaging = Str(b, h.RootStaging),
            RootOptions = Str(b, h.RootOptions),
            WorkingDirectory = Str(b, h.Cwd),
            Arguments = [.. argv.Select(o => Str(b, o)!)],
            Environment = [.. envp.Select(o => Str(b, o)!)],
            Mounts = [.. mounts.Select(m => new MountOp(
                (MountOpKind)m.Kind,
                RootFs.SandboxPath.Normalize(Str(b, m.Target) ?? throw new FormatException("A mount step has no target.")),
                Str(b, m.Source),
                m.Data == 0 ? null : Encoding.UTF8.GetString(Slice(b, m.Data, m.DataLength)),
                (MountFlags)m.Flags,
                m.Mode) { LayerFds = LayerFds(b, m) })],
            ResourceLimits = [.. rlimits.Select(r => new ResourceLimit(r.Resource, r.Soft, r.Hard))],
            CgroupProcsFiles = [.. cgroups.Select(o => Str(b, o)!)],
            CgroupProcsFds = [.. cgroupFds],
        };
    }

    /// <summary>An overlay's layer fds: as many int32s as its source names lower directories.</summary>
    private static ImmutableArray<int> LayerFds(byte[] block, MountOpRecord m)
    {
        if (m.LayerFds == 0) return [];
        if ((MountOpKind)m.Kind is not (MountOpKind.Overlay or MountOpKind.Attach))
            throw new FormatException($"A {(MountOpKind)m.Kind} mount step has layer fds: only an overlay and an attach have them.");
        int count = (MountOpKind)m.Kind == MountOpKind.Attach ? 1 : (Str(block, m.Source) ?? "").Split(':').Length;
        return [.. MemoryMarshal.Cast<byte, int>(Slice(block, m.LayerFds, (ulong)count * 4))];
    }

    private static uint[] Offsets(ReadOnlySpan<byte> block, uint offset, uint count) =>
        MemoryMarshal.Cast<byte, uint>(Slice(block, offset, (ulong)count * 4)).ToArray();

    private static T[] Records<T>(ReadOnlySpan<byte> block, uint offset, uint count)
        where T : struct =>
        MemoryMarshal.Cast<byte, T>(Slice(block, offset, (ulong)count * (uint)Unsafe.SizeOf<T>())).ToArray();

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> block, uint offset, ulong length)
    {
        // A count times a record size may exceed 32 bits: compare in 64 bits, never overflow.
        if (offset + length > (ulong)block.Length)
            throw new FormatException($"Bytes {offset}..{offset + length} lie outside the {block.Length}-byte plan.");
        return block.Slice((int)offset, (int)length);
    }

    private static string? Str(byte[] block, uint offset)
    {
        if (offset == 0) return null;
        if (offset >= block.Length)
            throw new FormatException($"A string offset {offset} lies outside the {block.Length}-byte plan.");
        int end = Array.IndexOf(block, (byte)0, (int)offset);
        if (end < 0)
            throw new FormatException($"The string at {offset} is not NUL-terminated.");
        return Encoding.UTF8.GetString(block, (int)offset, end - (int)offset);
    }
}
