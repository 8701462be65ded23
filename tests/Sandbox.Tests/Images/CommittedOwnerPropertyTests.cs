using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sandbox.Images.Layers;
using Sandbox.RootFs;

namespace Sandbox.Tests.Images;

/// <summary>
/// The owner a commit records for an upper-directory file (<see cref="UpperLayerWriter.TryCommittedOwner"/>): a store that
/// kept the image's ids maps back through them whatever the run; a rootless store records what the program made with the ids
/// it ran as, and copies-up of the image's files with the owner their layer gave them (the unpacking's record) or 0:0; the
/// run's record of those ids and the unpacking's record of an owner read back as written.
/// </summary>
public sealed class CommittedOwnerPropertyTests
{
    public sealed record Run(SandboxIdentity User, SandboxIdentity HostUser);

    public sealed record WrittenFiles((string Path, string Sha256, uint Mode)[] Files)
    {
        public override string ToString() => string.Join(", ", Files.Select(f => $"{f.Path} {f.Mode}"));
    }

    public static class Arbitraries
    {
        private static Gen<uint> Ids() => Gen.OneOf(Gen.Elements(0u, 1000u, 65534u, 100_000u, uint.MaxValue), Gen.Choose(0, int.MaxValue).Select(i => (uint)i));

        public static Arbitrary<Run> Runs() => Arb.From(
            from uid in Ids()
            from gid in Ids()
            from hostUid in Ids()
            from hostGid in Ids()
            select new Run(new SandboxIdentity(uid, gid), new SandboxIdentity(hostUid, hostGid)));

        public static Arbitrary<IdMapping> Mappings() => Arb.From(Gen.OneOf(
            Gen.Constant(IdMapping.Identity),
            from baseId in Gen.Choose(0, 1 << 20)
            from size in Gen.Choose(1, 1 << 17)
            select IdMapping.Shift((uint)baseId, (uint)baseId + 7, (uint)size)));

        public static Arbitrary<WrittenFiles> Files() => Arb.From(
            from files in Gen.ListOf(
                from path in Gen.Elements("etc/hosts", "etc/resolv.conf", "etc/dir/name with space", "é/ü")
                from hash in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 32)
                from mode in Gen.Choose(0, 0xFFF)
                select (path, Convert.ToHexStringLower(hash), (uint)mode))
            select new WrittenFiles([.. files]));
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public void A_store_that_kept_the_image_s_ids_maps_back_through_them_whatever_the_run_and_any_record(IdMapping owners, Run run, uint hostUid, uint hostGid, bool copiedUp, NonNegativeInt recorded)
    {
        var options = new LayerCommitOptions().WithOwners(owners).WithSandboxIds(run.User, run.HostUser);

        bool committed = UpperLayerWriter.TryCommittedOwner(options, hostUid, hostGid, copiedUp, (recorded.Get, recorded.Get), out int uid, out int gid);

        Assert.Equal(owners.TryMapBack(hostUid, hostGid, out int u, out int g), committed);
        Assert.Equal((u, g), (uid, gid));
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public void Shifted_owners_round_trip_through_unpacking_and_commit(NonNegativeInt baseId, PositiveInt size, NonNegativeInt layerUid, NonNegativeInt layerGid)
    {
        var shift = IdMapping.Shift((uint)baseId.Get, (uint)baseId.Get, (uint)size.Get);
        int uid = layerUid.Get % size.Get, gid = layerGid.Get % size.Get;

        Assert.True(shift.TryMap(uid, gid, out uint hostUid, out uint hostGid));
        Assert.True(UpperLayerWriter.TryCommittedOwner(new LayerCommitOptions().WithOwners(shift), hostUid, hostGid, copiedUp: true, recorded: null, out int u, out int g));
        Assert.Equal((uid, gid), (u, g));
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public void A_rootless_store_records_what_the_program_made_with_the_ids_it_ran_as_whatever_xattr_it_set(Run run, NonNegativeInt recorded)
    {
        var options = new LayerCommitOptions().WithOwners(IdMapping.Unpacker).WithSandboxIds(run.User, run.HostUser);

        Assert.True(UpperLayerWriter.TryCommittedOwner(options, run.HostUser.Uid, run.HostUser.Gid, copiedUp: false, (recorded.Get, recorded.Get), out int uid, out int gid));
        Assert.Equal(((long)Clamp(run.User.Uid), (long)Clamp(run.User.Gid)), ((long)uid, (long)gid));
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public void A_rootless_store_records_copies_up_with_the_layer_s_owner_and_other_host_owners_and_unknown_runs_as_root(Run run, uint hostUid, uint hostGid, NonNegativeInt recordedUid, NonNegativeInt recordedGid)
    {
        var unpacker = new LayerCommitOptions().WithOwners(IdMapping.Unpacker);
        var withRun = unpacker.WithSandboxIds(run.User, run.HostUser);

        Assert.True(UpperLayerWriter.TryCommittedOwner(withRun, run.HostUser.Uid, run.HostUser.Gid, copiedUp: true, recorded: null, out int uid, out int gid));
        Assert.Equal((0, 0), (uid, gid));
        Assert.True(UpperLayerWriter.TryCommittedOwner(unpacker, hostUid, hostGid, copiedUp: true, (recordedUid.Get, recordedGid.Get), out uid, out gid));
        Assert.Equal((recordedUid.Get, recordedGid.Get), (uid, gid));
        Assert.True(UpperLayerWriter.TryCommittedOwner(unpacker, hostUid, hostGid, copiedUp: false, recorded: null, out uid, out gid));
        Assert.Equal((0, 0), (uid, gid));
        Assert.True(UpperLayerWriter.TryCommittedOwner(withRun, hostUid, hostGid, copiedUp: false, recorded: null, out uid, out gid));
        Assert.Equal(hostUid == run.HostUser.Uid ? Clamp(run.User.Uid) : 0, uid);
        Assert.Equal(hostGid == run.HostUser.Gid ? Clamp(run.User.Gid) : 0, gid);
    }

    [Property(Arbitrary = [typeof(Arbitraries)])]
    public void The_run_s_record_reads_back_as_written(WrittenFiles files, Run run)
    {
        var record = new ImageSetupRecord([.. files.Files.Select(f => new ImageSetupRecord.WrittenFile(f.Path, f.Sha256, f.Mode))], run.User, run.HostUser);

        var read = ImageSetupRecord.TryParse(record.ToJson());

        Assert.NotNull(read);
        Assert.Equal(record.Files.ToArray(), read.Files.ToArray());
        Assert.Equal((record.User, record.HostUser), (read.User, read.HostUser));
    }

    [Property]
    public void A_recorded_owner_reads_back_as_written_and_root_needs_no_record(NonNegativeInt uid, NonNegativeInt gid)
    {
        byte[]? value = RecordedOwner.ValueFor(uid.Get, gid.Get);

        if (uid.Get == 0 && gid.Get == 0)
        {
            Assert.Null(value);
            return;
        }
        Assert.True(RecordedOwner.TryParse(value, out int u, out int g));
        Assert.Equal((uid.Get, gid.Get), (u, g));
    }

    [Theory]
    [InlineData("")]
    [InlineData(":")]
    [InlineData("1000")]
    [InlineData("-1:0")]
    [InlineData("1:2:3")]
    [InlineData("99999999999:0")]
    [InlineData(" 1:2")]
    public void A_recorded_owner_that_is_not_one_is_refused(string text)
    {
        Assert.False(RecordedOwner.TryParse(System.Text.Encoding.ASCII.GetBytes(text), out _, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("""{"files":[],"user":"1000","hostUser":"0:0"}""")]
    [InlineData("""{"files":[{"path":"etc/hosts"}],"user":"1:1","hostUser":"0:0"}""")]
    [InlineData("[1,2]")]
    public void A_record_that_is_not_one_reads_as_none(string text)
    {
        Assert.Null(ImageSetupRecord.TryParse(System.Text.Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>An id above int.MaxValue cannot be a tar owner: recorded as 0.</summary>
    private static int Clamp(uint id) => id <= int.MaxValue ? (int)id : 0;
}
