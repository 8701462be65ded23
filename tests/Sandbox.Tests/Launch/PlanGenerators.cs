using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using Sandbox.Launch;

namespace Sandbox.Tests.Launch;

/// <summary>Random launch plans: every field, every mount kind, strings from the whole of Unicode (but NUL).</summary>
internal static class PlanGenerators
{
    /// <summary>One Unicode scalar as a string: ASCII (controls included, NUL excluded), BMP, astral (a surrogate pair).</summary>
    public static readonly Gen<string> Scalar = Gen.Frequency(
        (4, Gen.Choose(1, 0x7F).Select(c => ((char)c).ToString())),
        (2, Gen.Choose(0x80, 0xD7FF).Select(c => ((char)c).ToString())),
        (1, Gen.Choose(0xE000, 0xFFFF).Select(c => ((char)c).ToString())),
        (1, Gen.Choose(0x10000, 0x10FFFF).Select(char.ConvertFromUtf32)));

    /// <summary>Text of any length, sometimes one of a few strings that recur (the writer stores a string once).</summary>
    public static readonly Gen<string> Text = Gen.Frequency(
        (1, Gen.Elements("", "/", "a", "size=64k,mode=0755", "ünïcödé ☃ 𝄞")),
        (5, Gen.ListOf(Scalar).Select(string.Concat)));

    public static readonly Gen<string?> NullableText = Gen.Frequency(
        (1, Gen.Constant<string?>(null)),
        (3, Text.Select(s => (string?)s)));

    /// <summary>One path component: non-empty, no '/', not "." or "..".</summary>
    public static readonly Gen<string> Component =
        Gen.NonEmptyListOf(Scalar).Select(parts => string.Concat(parts).Replace('/', '_'))
            .Where(c => c is not "." and not "..");

    /// <summary>A normalised absolute path, as every mount target of a plan is.</summary>
    public static readonly Gen<string> Target = Gen.Frequency(
        (1, Gen.Constant("/")),
        (6, Gen.Choose(1, 6).SelectMany(n => Gen.ListOf(Component, n)).Select(parts => "/" + string.Join('/', parts))));

    public static readonly Gen<uint> AnyUInt32 = Gen.Frequency(
        (1, Gen.Elements(0u, 1u, 0x7FFF_FFFFu, 0x8000_0000u, uint.MaxValue)),
        (4, Gen.Choose(0, 0xFFFF).SelectMany(hi => Gen.Choose(0, 0xFFFF), (hi, lo) => ((uint)hi << 16) | (uint)lo)));

    public static readonly Gen<int> AnyInt32 = AnyUInt32.Select(u => unchecked((int)u));

    public static readonly Gen<ulong> AnyUInt64 = Gen.Frequency(
        (1, Gen.Elements(0ul, 1ul, (ulong)long.MaxValue, ResourceLimit.Infinity)),
        (4, AnyUInt32.SelectMany(_ => AnyUInt32, (hi, lo) => ((ulong)hi << 32) | lo)));

    /// <summary>An overlay with idmapped layers: a lower directory list and one fd (or -1) per directory.</summary>
    public static readonly Gen<MountOp> IdmappedOverlayStep =
        from target in Target
        from lowers in Gen.Choose(1, 5).SelectMany(n => Gen.ListOf(Target.Where(t => !t.Contains(':', StringComparison.Ordinal)), n))
        from data in NullableText
        from flags in Gen.Choose(0, (int)MountFlagsAll)
        from fds in Gen.ListOf(Gen.Frequency((4, Gen.Choose(3, 4096)), (1, Gen.Constant(-1))), lowers.Count)
        select new MountOp(MountOpKind.Overlay, target, string.Join(':', lowers), data, (MountFlags)flags) { LayerFds = [.. fds] };

    public static readonly Gen<MountOp> MountStep = Gen.Frequency(
        (8, from kind in Gen.Elements(Enum.GetValues<MountOpKind>())
            from target in Target
            from source in NullableText
            from data in NullableText
            from flags in Gen.Choose(0, (int)MountFlagsAll)
            from mode in AnyUInt32
            select new MountOp(kind, target, source, data, (MountFlags)flags, mode)),
        (1, IdmappedOverlayStep));

    public static readonly Gen<ResourceLimit> Rlimit =
        from resource in Gen.Frequency((3, Gen.Choose(0, 15).Select(r => (uint)r)), (1, AnyUInt32))
        from soft in AnyUInt64
        from hard in AnyUInt64
        select new ResourceLimit(resource, soft, hard);

    public static readonly Gen<LaunchPlan> Plan =
        from flags in AnyUInt32
        from cloneFlags in AnyUInt64
        from fds in Gen.ArrayOf(AnyInt32, 9)
        from ids in Gen.ArrayOf(AnyUInt32, 3)
        from strings in Gen.ArrayOf(NullableText, 6)
        from arguments in Gen.NonEmptyListOf(Text)
        from environment in Gen.ListOf(Text)
        from mounts in Gen.ListOf(MountStep)
        from rlimitCount in Gen.Choose(0, PlanConstants.MaxRlimits)
        from rlimits in Gen.ListOf(Rlimit, rlimitCount)
        from cgroupCount in Gen.Choose(0, PlanConstants.MaxCgroupFiles)
        from cgroupFiles in Gen.ListOf(Text, cgroupCount)
        from cgroupFdsOpened in Gen.Elements(true, false)
        from cgroupFds in Gen.ArrayOf(AnyInt32, cgroupCount)
        select new LaunchPlan
        {
            Flags = (PlanFlags)flags,
            CloneFlags = cloneFlags,
            StdinFd = fds[0],
            StdoutFd = fds[1],
            StderrFd = fds[2],
            ReportFd = fds[3],
            InitFd = fds[4],
            NetworkNamespaceFd = fds[5],
            SeccompFd = fds[6],
            SeccompNotifyFd = fds[7],
            CgroupFd = cgroupFiles.Count > 0 ? fds[8] : -1,
            Uid = ids[0],
            Gid = ids[1],
            SetupTimeoutMs = ids[2],
            UidMap = strings[0],
            GidMap = strings[1],
            Hostname = strings[2],
            RootStaging = strings[3],
            RootOptions = strings[4],
            WorkingDirectory = strings[5],
            Arguments = [.. arguments],
            Environment = [.. environment],
            Mounts = [.. mounts],
            ResourceLimits = [.. rlimits],
            CgroupProcsFiles = [.. cgroupFiles],
            CgroupProcsFds = cgroupFdsOpened && cgroupCount > 0 ? [.. cgroupFds] : [],
        };

    private const MountFlags MountFlagsAll = MountFlags.ReadOnly | MountFlags.Recursive | MountFlags.NoSuid
        | MountFlags.NoDev | MountFlags.NoExec | MountFlags.Optional | MountFlags.UserXattr | MountFlags.DiskUpper;

    /// <summary>A plan's fields, readable in a failure report.</summary>
    public static string Describe(LaunchPlan p) =>
        $"{p with { Arguments = [], Environment = [], Mounts = [], ResourceLimits = [] }}" +
        $" argv=[{string.Join(", ", p.Arguments.Select(Quote))}] env=[{string.Join(", ", p.Environment.Select(Quote))}]" +
        $" mounts=[{string.Join(", ", p.Mounts)}] rlimits=[{string.Join(", ", p.ResourceLimits)}]";

    private static string Quote(string s) => "\"" + s + "\"";

    public static ImmutableArray<T> Repeat<T>(T item, int count) => [.. Enumerable.Repeat(item, count)];
}
