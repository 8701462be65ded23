using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sandbox.Launch;

namespace Sandbox.Tests.Launch;

/// <summary>The plan's wire format: what <see cref="PlanWriter"/> writes, <see cref="PlanReader"/> reads back, and the launcher can trust.</summary>
public sealed class PlanWireFormatTests
{
    private static readonly int HeaderSize = Unsafe.SizeOf<PlanHeader>();

    /// <summary>A generated plan (a public wrapper: the plan types are internal).</summary>
    public sealed class PlanCase
    {
        internal PlanCase(LaunchPlan plan) => Plan = plan;

        internal LaunchPlan Plan { get; }

        public override string ToString() => PlanGenerators.Describe(Plan);
    }

    /// <summary>A valid plan's block, damaged: cut short, bytes overwritten, header fields or offsets replaced.</summary>
    public sealed class DamagedPlan
    {
        internal DamagedPlan(byte[] block, string damage)
        {
            Block = block;
            Damage = damage;
        }

        internal byte[] Block { get; }

        internal string Damage { get; }

        public override string ToString() => $"{Damage} ({Block.Length} bytes)";
    }

    /// <summary>A valid plan's block cut to <see cref="Length"/> bytes, its header untouched.</summary>
    public sealed class TruncatedPlan
    {
        internal TruncatedPlan(byte[] block, int length)
        {
            Block = block;
            Length = length;
        }

        internal byte[] Block { get; }

        internal int Length { get; }

        public override string ToString() => $"cut to {Length} of {Block.Length} bytes";
    }

    public static class Arbitraries
    {
        public static Arbitrary<PlanCase> Plans() => Arb.From(PlanGenerators.Plan.Select(p => new PlanCase(p)));

        public static Arbitrary<TruncatedPlan> TruncatedPlans() => Arb.From(
            from plan in PlanGenerators.Plan
            let block = PlanWriter.Write(plan)
            from length in Gen.Frequency((1, Gen.Choose(0, HeaderSize)), (3, Gen.Choose(0, block.Length - 1)))
            select new TruncatedPlan(block, length));

        public static Arbitrary<DamagedPlan> DamagedPlans() => Arb.From(
            from plan in PlanGenerators.Plan
            let block = PlanWriter.Write(plan)
            from damaged in Gen.OneOf(
                CutAndRelabel(block), OverwriteBytes(block), ReplaceHeaderField(block), ReplaceRecordWord(block))
            select damaged);

        /// <summary>Cuts the block and makes the header agree with the new length, so the reader must notice the missing bytes itself.</summary>
        private static Gen<DamagedPlan> CutAndRelabel(byte[] block) =>
            Gen.Choose(HeaderSize, block.Length - 1).Select(length =>
            {
                var cut = block[..length];
                BitConverter.TryWriteBytes(cut.AsSpan(8), (uint)length);
                return new DamagedPlan(cut, $"cut to {length} bytes and relabelled");
            });

        private static Gen<DamagedPlan> OverwriteBytes(byte[] block) =>
            Gen.NonEmptyListOf(Gen.Choose(0, block.Length - 1).SelectMany(_ => Gen.Choose(0, 255), (at, value) => (at, value)))
                .Select(changes =>
                {
                    var copy = (byte[])block.Clone();
                    foreach (var (at, value) in changes) copy[at] = (byte)value;
                    return new DamagedPlan(copy, "bytes " + string.Join(", ", changes.Select(c => $"[{c.at}]={c.value}")));
                });

        /// <summary>Replaces one 32-bit header field after magic and version (offsets, counts, the size) with an awkward value.</summary>
        private static Gen<DamagedPlan> ReplaceHeaderField(byte[] block) =>
            from field in Gen.Choose(2, HeaderSize / 4 - 1)
            from value in AwkwardWord(block.Length)
            select Replace(block, field * 4, value, $"header word {field}");

        /// <summary>Replaces one 32-bit word among the arrays and records (a string offset, a count, a data length).</summary>
        private static Gen<DamagedPlan> ReplaceRecordWord(byte[] block) =>
            from word in Gen.Choose(HeaderSize / 4, block.Length / 4 - 1)
            from value in AwkwardWord(block.Length)
            select Replace(block, word * 4, value, $"word at {word * 4}");

        private static Gen<uint> AwkwardWord(int length) => Gen.Frequency(
            (3, Gen.Elements(0u, 1u, (uint)length - 1, (uint)length, (uint)length + 1, 0x0800_0000u, 0x4000_0000u,
                0x8000_0000u, 0xFFFF_FFF8u, uint.MaxValue)),
            (1, PlanGenerators.AnyUInt32));

        private static DamagedPlan Replace(byte[] block, int at, uint value, string what)
        {
            var copy = (byte[])block.Clone();
            BitConverter.TryWriteBytes(copy.AsSpan(at), value);
            return new DamagedPlan(copy, $"{what} set to 0x{value:x8}");
        }
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void A_written_plan_reads_back_equivalent(PlanCase generated)
    {
        var plan = generated.Plan;

        var read = PlanReader.Read(PlanWriter.Write(plan));

        Assert.True(read.Equivalent(plan), $"Read back:\n{PlanGenerators.Describe(read)}\nwritten:\n{PlanGenerators.Describe(plan)}");
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void Every_offset_of_a_written_plan_lies_inside_it_and_every_string_ends_in_NUL(PlanCase generated)
    {
        var plan = generated.Plan;
        var block = PlanWriter.Write(plan);
        var h = MemoryMarshal.Read<PlanHeader>(block);

        Assert.Equal(PlanConstants.PlanMagic, h.Magic);
        Assert.Equal(PlanConstants.PlanVersion, h.Version);
        Assert.Equal((uint)block.Length, h.TotalSize);

        // The arrays and records follow the header in order, 8-byte aligned, without overlapping; the strings come last.
        long end = HeaderSize;
        foreach (var (name, offset, count, size) in new[]
        {
            ("argv", h.Argv, h.Argc, 4), ("envp", h.Envp, h.Envc, 4),
            ("mounts", h.Mounts, h.MountCount, Unsafe.SizeOf<MountOpRecord>()),
            ("rlimits", h.Rlimits, h.RlimitCount, Unsafe.SizeOf<RlimitRecord>()),
        })
        {
            Assert.True(offset % 8 == 0, $"{name} at {offset} is not 8-byte aligned.");
            Assert.True(offset >= end, $"{name} at {offset} overlaps what precedes it (which ends at {end}).");
            end = offset + (long)count * size;
            Assert.True(end <= block.Length, $"{name} ends at {end}, beyond the {block.Length}-byte block.");
        }
        long strings = end;

        Assert.Equal((uint)plan.Arguments.Length, h.Argc);
        Assert.Equal((uint)plan.Environment.Length, h.Envc);
        Assert.Equal((uint)plan.Mounts.Length, h.MountCount);
        Assert.Equal((uint)plan.ResourceLimits.Length, h.RlimitCount);

        var stringOffsets = new List<(string What, uint Offset, bool Nullable)>
        {
            ("uid_map", h.UidMap, true), ("gid_map", h.GidMap, true), ("hostname", h.Hostname, true),
            ("root_staging", h.RootStaging, true), ("root_options", h.RootOptions, true), ("cwd", h.Cwd, true),
        };
        var argv = MemoryMarshal.Cast<byte, uint>(block.AsSpan((int)h.Argv, (int)h.Argc * 4)).ToArray();
        var envp = MemoryMarshal.Cast<byte, uint>(block.AsSpan((int)h.Envp, (int)h.Envc * 4)).ToArray();
        stringOffsets.AddRange(argv.Select((o, i) => ($"argv[{i}]", o, false)));
        stringOffsets.AddRange(envp.Select((o, i) => ($"envp[{i}]", o, false)));
        var mounts = MemoryMarshal.Cast<byte, MountOpRecord>(block.AsSpan((int)h.Mounts, (int)h.MountCount * Unsafe.SizeOf<MountOpRecord>())).ToArray();
        for (int i = 0; i < mounts.Length; i++)
        {
            stringOffsets.Add(($"mounts[{i}].target", mounts[i].Target, false));
            stringOffsets.Add(($"mounts[{i}].source", mounts[i].Source, true));
            stringOffsets.Add(($"mounts[{i}].data", mounts[i].Data, true));
            if (mounts[i].Data != 0)
            {
                long dataEnd = (long)mounts[i].Data + mounts[i].DataLength;
                Assert.True(dataEnd < block.Length && block[dataEnd] == 0,
                    $"mounts[{i}].data ({mounts[i].Data}, {mounts[i].DataLength} bytes) is not followed by a NUL inside the block.");
                Assert.Equal(Encoding.UTF8.GetByteCount(plan.Mounts[i].Data!), (int)mounts[i].DataLength);
            }
        }

        foreach (var (what, offset, nullable) in stringOffsets)
        {
            if (offset == 0)
            {
                Assert.True(nullable, $"{what} has no string.");
                continue;
            }
            Assert.True(offset >= strings && offset < block.Length, $"{what} at {offset} lies outside the strings ({strings}..{block.Length}).");
            Assert.True(Array.IndexOf(block, (byte)0, (int)offset) >= 0, $"{what} at {offset} is not NUL-terminated inside the block.");
        }
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void A_truncated_plan_is_rejected_with_a_FormatException(TruncatedPlan truncated)
    {
        var cut = truncated.Block[..truncated.Length];

        Assert.Throws<FormatException>(() => PlanReader.Read(cut));
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) }, MaxTest = 500)]
    public void A_damaged_plan_is_read_or_rejected_with_a_FormatException_but_never_crashes_the_reader(DamagedPlan damaged)
    {
        var thrown = Record.Exception(() => PlanReader.Read(damaged.Block));

        Assert.True(thrown is null or FormatException, $"{damaged}: {thrown}");
    }

    [Fact]
    public void A_plan_starts_with_the_SBXP_magic_and_says_its_own_size()
    {
        var block = PlanWriter.Write(Minimal);

        Assert.Equal("SBXP", Encoding.ASCII.GetString(block, 0, 4));
        Assert.Equal((uint)block.Length, BitConverter.ToUInt32(block, 8));
    }

    [Fact]
    public void A_null_string_is_written_as_offset_zero_and_an_empty_one_is_not()
    {
        var block = PlanWriter.Write(Minimal with { Hostname = null, WorkingDirectory = "" });
        var h = MemoryMarshal.Read<PlanHeader>(block);

        Assert.Equal(0u, h.Hostname);
        Assert.NotEqual(0u, h.Cwd);
        Assert.Equal(0, block[h.Cwd]);
    }

    [Fact]
    public void Identical_strings_are_stored_once()
    {
        var block = PlanWriter.Write(Minimal with { Arguments = ["same", "same"], Hostname = "same" });
        var h = MemoryMarshal.Read<PlanHeader>(block);
        var argv = MemoryMarshal.Cast<byte, uint>(block.AsSpan((int)h.Argv, 8));

        Assert.Equal(argv[0], argv[1]);
        Assert.Equal(argv[0], h.Hostname);
    }

    [Theory]
    [InlineData("/", ".")]
    [InlineData("/proc", "proc")]
    [InlineData("/dev/pts", "dev/pts")]
    public void A_mount_target_is_written_relative_to_the_new_root(string target, string written)
    {
        var block = PlanWriter.Write(Minimal with { Mounts = [new MountOp(MountOpKind.MakeDirectory, target)] });
        var h = MemoryMarshal.Read<PlanHeader>(block);
        var op = MemoryMarshal.Read<MountOpRecord>(block.AsSpan((int)h.Mounts));

        int end = Array.IndexOf(block, (byte)0, (int)op.Target);
        Assert.Equal(written, Encoding.UTF8.GetString(block, (int)op.Target, end - (int)op.Target));
    }

    [Theory]
    [InlineData("argument")]
    [InlineData("environment")]
    [InlineData("uid map")]
    [InlineData("gid map")]
    [InlineData("hostname")]
    [InlineData("root staging")]
    [InlineData("root options")]
    [InlineData("working directory")]
    [InlineData("mount source")]
    [InlineData("mount target")]
    [InlineData("mount data")]
    public void The_writer_rejects_a_NUL_in_any_string(string where)
    {
        const string bad = "a\0b";
        var plan = where switch
        {
            "argument" => Minimal with { Arguments = ["/bin/true", bad] },
            "environment" => Minimal with { Environment = [bad] },
            "uid map" => Minimal with { UidMap = bad },
            "gid map" => Minimal with { GidMap = bad },
            "hostname" => Minimal with { Hostname = bad },
            "root staging" => Minimal with { RootStaging = bad },
            "root options" => Minimal with { RootOptions = bad },
            "working directory" => Minimal with { WorkingDirectory = bad },
            "mount source" => Minimal with { Mounts = [new MountOp(MountOpKind.Bind, "/x", Source: bad)] },
            "mount target" => Minimal with { Mounts = [new MountOp(MountOpKind.MakeDirectory, "/" + bad)] },
            "mount data" => Minimal with { Mounts = [new MountOp(MountOpKind.WriteFile, "/x", Data: bad)] },
            _ => throw new ArgumentOutOfRangeException(nameof(where)),
        };

        var thrown = Assert.Throws<ArgumentException>(() => PlanWriter.Write(plan));
        Assert.Contains("NUL", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_writer_takes_as_many_mount_steps_as_the_launcher_and_no_more()
    {
        var step = new MountOp(MountOpKind.MakeDirectory, "/x");

        var atLimit = PlanReader.Read(PlanWriter.Write(Minimal with { Mounts = PlanGenerators.Repeat(step, PlanConstants.MaxMountOps) }));
        var thrown = Assert.Throws<ArgumentException>(() =>
            PlanWriter.Write(Minimal with { Mounts = PlanGenerators.Repeat(step, PlanConstants.MaxMountOps + 1) }));

        Assert.Equal(PlanConstants.MaxMountOps, atLimit.Mounts.Length);
        Assert.Contains($"{PlanConstants.MaxMountOps + 1}", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_writer_takes_as_many_resource_limits_as_the_launcher_and_no_more()
    {
        var limit = new ResourceLimit(ResourceLimit.NoFile, 1, 1);

        var atLimit = PlanReader.Read(PlanWriter.Write(Minimal with { ResourceLimits = PlanGenerators.Repeat(limit, PlanConstants.MaxRlimits) }));

        Assert.Equal(PlanConstants.MaxRlimits, atLimit.ResourceLimits.Length);
        Assert.Throws<ArgumentException>(() =>
            PlanWriter.Write(Minimal with { ResourceLimits = PlanGenerators.Repeat(limit, PlanConstants.MaxRlimits + 1) }));
    }

    [Fact]
    public void The_writer_rejects_a_cgroup_fd_without_a_cgroup_procs_to_fall_back_on()
    {
        var thrown = Assert.Throws<ArgumentException>(() => PlanWriter.Write(Minimal with { CgroupFd = 5 }));

        Assert.Contains("cgroup.procs", thrown.Message, StringComparison.Ordinal);
        Assert.Equal(5, PlanReader.Read(PlanWriter.Write(Minimal with { CgroupFd = 5, CgroupProcsFiles = ["/sys/fs/cgroup/x/cgroup.procs"] })).CgroupFd);
    }

    [Fact]
    public void The_writer_takes_one_cgroup_procs_fd_per_file_or_none()
    {
        string[] files = ["/sys/fs/cgroup/memory/x/cgroup.procs", "/sys/fs/cgroup/pids/x/cgroup.procs"];

        var opened = PlanReader.Read(PlanWriter.Write(Minimal with { CgroupProcsFiles = [.. files], CgroupProcsFds = [7, -1] }));
        var none = PlanReader.Read(PlanWriter.Write(Minimal with { CgroupProcsFiles = [.. files] }));
        var thrown = Assert.Throws<ArgumentException>(() => PlanWriter.Write(Minimal with { CgroupProcsFiles = [.. files], CgroupProcsFds = [7] }));

        Assert.Equal([7, -1], opened.CgroupProcsFds.ToArray());
        Assert.Empty(none.CgroupProcsFds);
        Assert.Contains("1 cgroup.procs fds for 2 files", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_overlay_s_layer_fds_are_one_int32_per_lower_directory_after_the_records_and_before_the_strings()
    {
        var overlay = new MountOp(MountOpKind.Overlay, "/", "/l/c:/l/b:/l/a", "size=4096", MountFlags.UserXattr) { LayerFds = [41, -1, 43] };
        var plan = Minimal with { Mounts = [new MountOp(MountOpKind.MakeDirectory, "/x"), overlay] };

        var block = PlanWriter.Write(plan);
        var h = MemoryMarshal.Read<PlanHeader>(block);
        var records = MemoryMarshal.Cast<byte, MountOpRecord>(block.AsSpan((int)h.Mounts, 2 * Unsafe.SizeOf<MountOpRecord>())).ToArray();

        Assert.Equal(0u, records[0].LayerFds);
        Assert.True(records[1].LayerFds % 4 == 0 && records[1].LayerFds >= h.Mounts + 2 * Unsafe.SizeOf<MountOpRecord>());
        Assert.Equal([41, -1, 43], MemoryMarshal.Cast<byte, int>(block.AsSpan((int)records[1].LayerFds, 12)).ToArray());
        Assert.True(records[1].LayerFds + 12 <= h.Cwd || h.Cwd == 0);
        Assert.Equal([41, -1, 43], PlanReader.Read(block).Mounts[1].LayerFds.ToArray());
        Assert.NotEqual(overlay, overlay with { LayerFds = [41, -1, 44] });
    }

    [Theory]
    [InlineData((uint)MountOpKind.Bind, "/l/a", 1)]
    [InlineData((uint)MountOpKind.Overlay, "/l/b:/l/a", 1)]
    [InlineData((uint)MountOpKind.Overlay, "/l/b:/l/a", 3)]
    public void The_writer_rejects_layer_fds_on_anything_but_an_overlay_with_one_per_lower_directory(uint kind, string source, int count)
    {
        var step = new MountOp((MountOpKind)kind, "/", source, "size=4096") { LayerFds = [.. Enumerable.Range(10, count)] };

        var thrown = Assert.Throws<ArgumentException>(() => PlanWriter.Write(Minimal with { Mounts = [step] }));

        Assert.Contains("layer fds", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_writer_rejects_a_plan_without_a_program()
    {
        Assert.Throws<ArgumentException>(() => PlanWriter.Write(Minimal with { Arguments = [] }));
        Assert.Throws<ArgumentException>(() => PlanWriter.Write(Minimal with { Arguments = default }));
    }

    [Fact]
    public void The_reader_rejects_a_block_that_is_not_a_plan()
    {
        var block = PlanWriter.Write(Minimal);
        var wrongMagic = (byte[])block.Clone();
        wrongMagic[0] ^= 0xFF;
        var wrongVersion = (byte[])block.Clone();
        wrongVersion[4] = (byte)(PlanConstants.PlanVersion + 1);

        Assert.Throws<FormatException>(() => PlanReader.Read(wrongMagic));
        Assert.Throws<FormatException>(() => PlanReader.Read(wrongVersion));
        Assert.Throws<FormatException>(() => PlanReader.Read([]));
    }

    [Fact]
    public void The_reader_rejects_a_block_longer_or_shorter_than_its_header_says()
    {
        var block = PlanWriter.Write(Minimal);

        Assert.Throws<FormatException>(() => PlanReader.Read([.. block, 0]));
        Assert.Throws<FormatException>(() => PlanReader.Read(block[..^1]));
    }

    [Theory]
    [InlineData(nameof(PlanHeader.Argc))]
    [InlineData(nameof(PlanHeader.Envc))]
    [InlineData(nameof(PlanHeader.MountCount))]
    [InlineData(nameof(PlanHeader.RlimitCount))]
    public void The_reader_rejects_a_count_whose_records_would_overflow_32_bits(string field)
    {
        var block = PlanWriter.Write(Minimal);
        int at = (int)Marshal.OffsetOf<PlanHeader>(field);
        BitConverter.TryWriteBytes(block.AsSpan(at), 0xC000_0000u);

        Assert.Throws<FormatException>(() => PlanReader.Read(block));
    }

    private static LaunchPlan Minimal { get; } = new()
    {
        Arguments = ["/bin/true"],
        RootStaging = "/tmp",
        RootOptions = "size=1m",
    };
}
