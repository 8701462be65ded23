using FsCheck;
using FsCheck.Xunit;

namespace Sandbox.Tests.Namespaces;

/// <summary>Root's block of subordinate ids, read from /etc/subuid and /etc/subgid.</summary>
public sealed class HostIdRangeTests
{
    [Theory]
    [InlineData("root:100000:65536\n", "root:200000:65536\n", 100000u, 200000u)]
    [InlineData("0:100000:131072", "0:300000:65536", 100000u, 300000u)]
    [InlineData("alice:100000:65536\nroot:5000:10\nroot:165536:65536\n", "root:1:65535\nroot:400000:70000\n", 165536u, 400000u)]
    [InlineData("# comment\n  root:100000:65536  \n", "root:100000:65536", 100000u, 100000u)]
    public void Root_s_first_block_of_at_least_65536_ids_is_taken_capped_at_65536(string subuid, string subgid, uint uid, uint gid)
    {
        Assert.Equal(new HostIdRange(uid, gid, 65536), HostIdRange.FromSubordinateIds(subuid, subgid));
    }

    [Theory]
    [InlineData(null, "root:100000:65536")]
    [InlineData("root:100000:65536", null)]
    [InlineData("alice:100000:65536", "root:100000:65536")]
    [InlineData("root:100000:65535", "root:100000:65536")]
    [InlineData("root:x:65536", "root:100000:65536")]
    [InlineData("root:4294901760:65536", "root:100000:65536")]
    public void Without_a_usable_block_in_both_files_there_is_none(string? subuid, string? subgid)
    {
        Assert.Null(HostIdRange.FromSubordinateIds(subuid, subgid));
    }

    [Property]
    public void A_block_written_as_subuid_and_subgid_reads_back(uint uidStart, uint gidStart, ushort extra)
    {
        uint uid = uidStart % (uint.MaxValue - 200000), gid = gidStart % (uint.MaxValue - 200000);
        uint count = 65536u + extra;

        var range = HostIdRange.FromSubordinateIds($"root:{uid}:{count}\n", $"0:{gid}:{count}\n");

        Assert.Equal(new HostIdRange(uid, gid, 65536), range);
        Assert.Equal($"0 {uid} 65536\n", range!.MapLine(range.FirstUid));
    }
}
