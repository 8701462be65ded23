using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sandbox.Seccomp;

namespace Sandbox.Tests.Seccomp;

/// <summary>
/// The kernel's seccomp audit line as /dev/kmsg gives it (type=1326): real lines, the kernel's two ways of writing
/// a comm, lines of other kinds, malformed ones, and a round trip through the kernel's format.
/// </summary>
public sealed class SeccompAuditRecordTests
{
    /// <summary>Lines logged on this machine (kernel 6.18) by the integration tests and by a helper named "a "q" b".</summary>
    private const string RealRecord =
        "5,208694,12536650205,-;audit: type=1326 audit(1795681185.441:4): auid=4294967295 uid=65534 gid=65534 ses=4294967295 " +
        "pid=14162 comm=\"probe\" exe=\"/probe\" sig=31 arch=c000003e syscall=110 compat=0 ip=0x44dd69 code=0x80000000";

    private const string HexCommandRecord =
        "5,208697,12552670083,-;audit: type=1326 audit(1795681201.461:7): auid=4294967295 uid=0 gid=0 ses=4294967295 " +
        "pid=14354 comm=61202271222062 exe=2F746D702F736B2070726F6265 sig=31 arch=c000003e syscall=110 compat=0 ip=0x7f25797a7829 code=0x80000000";

    [Fact]
    public void A_real_kill_record_gives_every_field()
    {
        var record = SeccompAuditRecord.TryParse(RealRecord);

        Assert.Equal(new SeccompAuditRecord(12536650205, 14162, "probe", 31, 0xc000003e, 110, 0x80000000), record);
    }

    [Fact]
    public void A_comm_with_spaces_or_quotes_is_read_back_from_the_kernel_hex()
    {
        var record = SeccompAuditRecord.TryParse(HexCommandRecord);

        Assert.NotNull(record);
        Assert.Equal("a \"q\" b", record.Command);
        Assert.Equal(110, record.Syscall);
    }

    [Fact]
    public void A_quoted_comm_with_spaces_is_one_value_and_fields_inside_it_are_not_fields()
    {
        var record = SeccompAuditRecord.TryParse(
            "5,1,100,-;audit: type=1326 audit(1.0:1): pid=7 comm=\"my tool syscall=59\" exe=\"/x\" sig=31 arch=c00000b7 syscall=220 compat=0 ip=0x1 code=0x80000000");

        Assert.NotNull(record);
        Assert.Equal("my tool syscall=59", record.Command);
        Assert.Equal(220, record.Syscall);
        Assert.Equal(0xc00000b7u, record.Architecture);
    }

    [Fact]
    public void Continuation_lines_after_the_message_are_ignored()
    {
        var record = SeccompAuditRecord.TryParse(RealRecord + "\n SUBSYSTEM=audit\n DEVICE=+audit:0");

        Assert.NotNull(record);
        Assert.Equal(0x80000000u, record.Action);
    }

    [Fact]
    public void A_logged_only_action_has_signal_zero()
    {
        var record = SeccompAuditRecord.TryParse(RealRecord.Replace("sig=31", "sig=0", StringComparison.Ordinal).Replace("code=0x80000000", "code=0x7ffc0000", StringComparison.Ordinal));

        Assert.NotNull(record);
        Assert.Equal(0, record.Signal);
        Assert.Equal(0x7ffc0000u, record.Action);
    }

    [Theory]
    [InlineData("6,1234,9241164070,-;virtio_net virtio1 eth0: link up")]
    [InlineData("5,10,20,-;audit: type=1400 audit(1.0:2): apparmor=\"DENIED\" operation=\"open\" pid=1 comm=\"x\"")]
    [InlineData("5,10,20,-;audit: type=1300 audit(1.0:2): arch=c000003e syscall=59 success=yes pid=1 comm=\"x\"")]
    [InlineData("")]
    public void A_line_that_is_not_a_seccomp_record_is_not_one(string line)
    {
        Assert.Null(SeccompAuditRecord.TryParse(line));
    }

    [Theory]
    [InlineData("no semicolon type=1326 pid=1 sig=31 arch=c000003e syscall=1 code=0x80000000")]
    [InlineData("5,10;audit: type=1326 pid=1 sig=31 arch=c000003e syscall=1 code=0x80000000")]
    [InlineData("5,10,soon,-;audit: type=1326 pid=1 sig=31 arch=c000003e syscall=1 code=0x80000000")]
    [InlineData("5,10,20,-;audit: type=1326 sig=31 arch=c000003e syscall=1 code=0x80000000")]
    [InlineData("5,10,20,-;audit: type=1326 pid=one sig=31 arch=c000003e syscall=1 code=0x80000000")]
    [InlineData("5,10,20,-;audit: type=1326 pid=1 sig=31 arch=xyz syscall=1 code=0x80000000")]
    [InlineData("5,10,20,-;audit: type=1326 pid=1 sig=31 arch=c000003e code=0x80000000")]
    [InlineData("5,10,20,-;audit: type=1326 pid=1 sig=31 arch=c000003e syscall=1 code=80000000")]
    [InlineData("5,10,20,-;audit: type=1326 pid=1 sig=31 arch=c000003e syscall=1")]
    [InlineData("5,10,20,-;audit: type=1326 pid=1 sig=31 arch=c000003e syscall=99999999999 code=0x80000000")]
    public void A_malformed_seccomp_record_is_refused(string line)
    {
        Assert.Null(SeccompAuditRecord.TryParse(line));
    }

    /// <summary>The fields of a record (public, for FsCheck's test methods; the record type is internal).</summary>
    public sealed record RecordSample(long MonotonicMicroseconds, int Pid, string Command, int Signal, uint Architecture, int Syscall, uint Action)
    {
        internal SeccompAuditRecord ToRecord() => new(MonotonicMicroseconds, Pid, Command, Signal, Architecture, Syscall, Action);
    }

    /// <summary>A record with any comm of printable and other characters (what prctl(PR_SET_NAME) allows).</summary>
    internal static class Arbitraries
    {
        private static readonly char[] CommandCharacters = [.. "abcXYZ019-_./:=\" \t\u00e9\u00fc\u4e2d"];

        public static Arbitrary<RecordSample> Records() => Arb.From(
            from micros in Gen.Choose(0, int.MaxValue).Select(v => (long)v * 1000 + 7)
            from pid in Gen.Choose(1, 4_194_304)
            from length in Gen.Choose(1, 5)
            from command in Gen.ArrayOf(Gen.Elements(CommandCharacters), length).Select(c => new string(c))
            from signal in Gen.Elements(0, 31)
            from architecture in Gen.Elements(0xc000003eu, 0xc00000b7u, 0x40000003u)
            from syscall in Gen.Frequency((5, Gen.Choose(0, 470)), (1, Gen.Elements(-1, int.MaxValue)))
            from action in Gen.Elements(0x80000000u, 0x00000000u, 0x00030000u, 0x7ffc0000u)
            select new RecordSample(micros, pid, command, signal, architecture, syscall, action));
    }

    /// <summary>How the kernel writes a record (kernel/auditsc.c audit_seccomp, audit_log_untrustedstring).</summary>
    private static string Format(SeccompAuditRecord r, long sequence)
    {
        bool plain = r.Command.All(c => c is > ' ' and < '\u007f' and not '"');
        string comm = plain ? $"\"{r.Command}\"" : Convert.ToHexString(Encoding.UTF8.GetBytes(r.Command));
        return string.Create(CultureInfo.InvariantCulture,
            $"5,{sequence},{r.MonotonicMicroseconds},-;audit: type=1326 audit(1795681185.441:4): auid=4294967295 uid=65534 gid=65534 " +
            $"ses=4294967295 subj=unconfined pid={r.Pid} comm={comm} exe=\"/probe\" sig={r.Signal} arch={r.Architecture:x} " +
            $"syscall={r.Syscall} compat=0 ip=0x44dd69 code=0x{r.Action:x}");
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 300)]
    public bool A_record_the_kernel_logs_reads_back_unchanged(RecordSample sample, PositiveInt sequence) =>
        SeccompAuditRecord.TryParse(Format(sample.ToRecord(), sequence.Get)) == sample.ToRecord();

    [Property(MaxTest = 500)]
    public void Any_text_is_parsed_or_refused_without_throwing(string text, bool asRecordTail)
    {
        string line = asRecordTail ? "5,1,2,-;audit: type=1326 " + text : text ?? "";
        _ = SeccompAuditRecord.TryParse(line);
    }
}
