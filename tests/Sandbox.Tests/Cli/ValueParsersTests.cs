using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sandbox.Cli;

namespace Sandbox.Tests.Cli;

/// <summary>The CLI's durations ("500ms", "2s", "1m"), sizes ("64m", "1GiB") and bind specifications.</summary>
public sealed class ValueParsersTests
{
    /// <summary>A whole number of some unit, written as the CLI user would, and the value it means.</summary>
    public sealed record DurationText(string Text, TimeSpan Value)
    {
        public override string ToString() => $"\"{Text}\" = {Value}";
    }

    public sealed record FractionalSeconds(string Text, TimeSpan Value)
    {
        public override string ToString() => $"\"{Text}\" = {Value}";
    }

    public sealed record SizeText(string Text, long Value)
    {
        public override string ToString() => $"\"{Text}\" = {Value}";
    }

    /// <summary>Text a user could mistype: digits, signs, dots, exponents, units, letters, spaces, in any order.</summary>
    public sealed record Garbage(string Text)
    {
        public override string ToString() => $"\"{Text}\"";
    }

    public static class Arbitraries
    {
        private static readonly (string Suffix, long Ticks)[] DurationUnits =
            [("ms", TimeSpan.TicksPerMillisecond), ("s", TimeSpan.TicksPerSecond), ("m", TimeSpan.TicksPerMinute), ("h", TimeSpan.TicksPerHour)];

        private static readonly (string Suffix, long Bytes)[] SizeUnits =
            [("", 1), ("b", 1), ("k", 1L << 10), ("m", 1L << 20), ("g", 1L << 30), ("K", 1L << 10), ("M", 1L << 20), ("G", 1L << 30),
             ("kb", 1L << 10), ("MB", 1L << 20), ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("kib", 1L << 10)];

        public static Arbitrary<DurationText> Durations() => Arb.From(
            from unit in Gen.Elements(DurationUnits)
            from count in Gen.Frequency((3, Gen.Choose(1, 1000)), (1, Gen.Choose(1, 1_000_000)))
            select new DurationText($"{count}{unit.Suffix}", TimeSpan.FromTicks(count * unit.Ticks)));

        /// <summary>Seconds with a millisecond fraction: "12.034s", "0.001s", or the same without the unit.</summary>
        public static Arbitrary<FractionalSeconds> FractionalSecondsTexts() => Arb.From(
            from milliseconds in Gen.Frequency((3, Gen.Choose(1, 10_000)), (1, Gen.Choose(1, int.MaxValue)))
            from unit in Gen.Elements("s", "")
            select new FractionalSeconds($"{milliseconds / 1000}.{milliseconds % 1000:D3}{unit}", TimeSpan.FromMilliseconds(milliseconds)));

        public static Arbitrary<SizeText> Sizes() => Arb.From(
            from unit in Gen.Elements(SizeUnits)
            from count in Gen.Frequency(
                (3, Gen.Choose(1, 4096).Select(c => (long)c)),
                (1, Gen.Choose(1, int.MaxValue).Select(c => c * (long.MaxValue / unit.Bytes / int.MaxValue))))
            select new SizeText($"{count}{unit.Suffix}", count * unit.Bytes));

        /// <summary>An I/O limit as the library takes it: a MAJ:MIN or /dev path, and at least one positive figure.</summary>
        public static Arbitrary<SandboxIoLimit> IoLimits()
        {
            var device = Gen.OneOf(
                from major in Gen.Choose(0, 4095)
                from minor in Gen.Choose(0, 1 << 20)
                select $"{major}:{minor}",
                from parts in Gen.NonEmptyListOf(Gen.Elements("vda", "sda", "disk", "by-id", "nvme0n1", "virtio-x_1", "mapper", "dm-0"))
                select "/dev/" + string.Join('/', parts));
            var figure = Gen.Frequency(
                (1, Gen.Constant<long?>(null)),
                (3, Gen.Choose(1, int.MaxValue).Select(v => (long?)v)),
                (1, Gen.Elements<long?>(1, long.MaxValue)));
            return Arb.From(
                from d in device
                from rbps in figure
                from wbps in figure
                from riops in figure
                from wiops in figure
                where rbps is not null || wbps is not null || riops is not null || wiops is not null
                select new SandboxIoLimit(d, rbps, wbps, riops, wiops));
        }

        public static Arbitrary<Garbage> Garbage() => Arb.From(
            Gen.ListOf(Gen.Elements("0", "1", "9", ".", "-", "+", "e", "E", "k", "m", "s", "ms", "h", "g", "iB", "x", " ", ",", "∞", "NaN", "Infinity", "٣"))
                .Select(parts => new Garbage(string.Concat(parts))));
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void A_whole_duration_in_any_unit_parses_to_exactly_its_value(DurationText duration)
    {
        Assert.True(ValueParsers.TryParseDuration(duration.Text, out var parsed), duration.ToString());
        Assert.Equal(duration.Value, parsed);
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void Seconds_with_a_millisecond_fraction_parse_to_exactly_their_value(FractionalSeconds duration)
    {
        Assert.True(ValueParsers.TryParseDuration(duration.Text, out var parsed), duration.ToString());
        Assert.Equal(duration.Value, parsed);
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void A_whole_size_in_any_unit_parses_to_exactly_its_value(SizeText size)
    {
        Assert.True(ValueParsers.TryParseSize(size.Text, out long parsed), size.ToString());
        Assert.Equal(size.Value, parsed);
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void Any_text_either_parses_to_a_positive_value_or_is_rejected_without_throwing(Garbage text)
    {
        bool isDuration = ValueParsers.TryParseDuration(text.Text, out var duration);
        bool isSize = ValueParsers.TryParseSize(text.Text, out long size);

        Assert.True(!isDuration || duration > TimeSpan.Zero, $"duration {duration}");
        Assert.True(!isSize || size > 0, $"size {size}");
    }

    [Property]
    public void Any_string_at_all_is_parsed_or_rejected_without_throwing(NonNull<string> text)
    {
        ValueParsers.TryParseDuration(text.Get, out _);
        ValueParsers.TryParseSize(text.Get, out _);
    }

    [Theory]
    [InlineData("1.5s", 1500)]
    [InlineData("0.25s", 250)]
    [InlineData("2", 2000)]
    [InlineData(" 3S ", 3000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("0.5m", 30_000)]
    public void A_duration_may_have_a_fraction_a_unit_in_any_case_or_no_unit_for_seconds(string text, long milliseconds)
    {
        Assert.True(ValueParsers.TryParseDuration(text, out var parsed));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("ms")]
    [InlineData("0")]
    [InlineData("0ms")]
    [InlineData("-1s")]
    [InlineData("+1s")]
    [InlineData("1e3s")]
    [InlineData("1d")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1.s.")]
    [InlineData("99999999999999999999h")]
    [InlineData("1,5s")]
    [InlineData("0.00001ms")]
    public void A_duration_that_is_garbage_negative_zero_shorter_than_a_tick_or_too_long_is_rejected(string text)
    {
        Assert.False(ValueParsers.TryParseDuration(text, out _));
    }

    [Theory]
    [InlineData("4096", 4096)]
    [InlineData("64k", 64L << 10)]
    [InlineData("64MiB", 64L << 20)]
    [InlineData("1.5k", 1536)]
    [InlineData("1g", 1L << 30)]
    [InlineData(" 2M ", 2L << 20)]
    [InlineData("7b", 7)]
    public void A_size_may_have_a_fraction_of_a_unit_and_binary_units_in_any_case(string text, long bytes)
    {
        Assert.True(ValueParsers.TryParseSize(text, out long parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("k")]
    [InlineData("MiB")]
    [InlineData("0")]
    [InlineData("0k")]
    [InlineData("-1")]
    [InlineData("-64m")]
    [InlineData("0.1")]
    [InlineData("1.0001k")]
    [InlineData("1e6")]
    [InlineData("64t")]
    [InlineData("9223372036854775808")]
    [InlineData("8589934592g")]
    [InlineData("79228162514264337593543950335g")]
    [InlineData("79228162514264337593543950335")]
    public void A_size_that_is_garbage_negative_zero_fractional_or_too_large_is_rejected(string text)
    {
        Assert.False(ValueParsers.TryParseSize(text, out _));
    }

    [Fact]
    public void The_largest_size_is_accepted_and_one_more_is_not()
    {
        Assert.True(ValueParsers.TryParseSize(long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), out long max));
        Assert.Equal(long.MaxValue, max);
        Assert.True(ValueParsers.TryParseSize("8589934591g", out long almost));
        Assert.Equal(8589934591L << 30, almost);
    }

    [Theory]
    [InlineData("/srv/data", "/srv/data", "/srv/data")]
    [InlineData("/srv/data:/data", "/srv/data", "/data")]
    [InlineData("/a:/b:/c", "/a", "/b:/c")]
    [InlineData(":/data", "", "/data")]
    [InlineData("/srv:", "/srv", "")]
    public void A_bind_is_a_source_or_a_source_and_target_split_at_the_first_colon(string text, string source, string target)
    {
        Assert.Equal((source, target), ValueParsers.ParseBind(text));
    }

    [Property(Arbitrary = new[] { typeof(Arbitraries) })]
    public void An_IO_limit_formatted_for_the_command_line_parses_back_to_itself(SandboxIoLimit limit)
    {
        string text = ValueParsers.FormatIoLimit(limit);

        Assert.True(ValueParsers.TryParseIoLimit(text, out var parsed, out string? problem), $"{text}: {problem}");
        Assert.Equal(limit, parsed);
        Assert.Empty(SandboxSpec.Command("/bin/true").AddIoLimit(parsed).Validate(hostIsRoot: true));
    }

    [Property]
    public void Any_string_is_parsed_as_an_IO_limit_or_rejected_with_a_reason_without_throwing(NonNull<string> text)
    {
        bool parsed = ValueParsers.TryParseIoLimit(text.Get, out var limit, out string? problem);

        Assert.True(parsed ? limit is not null && problem is null : limit is null && problem is { Length: > 0 });
    }

    [Theory]
    [InlineData("254:0:wbps=1m", "254:0", null, 1L << 20, null, null)]
    [InlineData("254:0:rbps=10m,wbps=512k,riops=100,wiops=50", "254:0", 10L << 20, 512L << 10, 100L, 50L)]
    [InlineData("/dev/vda:riops=100", "/dev/vda", null, null, 100L, null)]
    [InlineData("/dev/disk/by-id/virtio-a:WBPS=1g", "/dev/disk/by-id/virtio-a", null, 1L << 30, null, null)]
    [InlineData("8:16:rbps=4096", "8:16", 4096L, null, null, null)]
    public void An_IO_limit_is_a_device_then_rates_in_sizes_and_operations_in_whole_numbers(
        string text, string device, long? rbps, long? wbps, long? riops, long? wiops)
    {
        Assert.True(ValueParsers.TryParseIoLimit(text, out var limit, out _));
        Assert.Equal(new SandboxIoLimit(device, rbps, wbps, riops, wiops), limit);
    }

    [Theory]
    [InlineData("254:0", "is not DEVICE:KEY=VALUE")]
    [InlineData("wbps=1m", "is not DEVICE:KEY=VALUE")]
    [InlineData(":wbps=1m", "is not DEVICE:KEY=VALUE")]
    [InlineData("254:0:bps=1m", "'bps=1m' is not one of rbps=, wbps=, riops=, wiops=")]
    [InlineData("254:0:wbps=1m,", "'' is not one of")]
    [InlineData("254:0:wbps=1m,wbps=2m", "sets wbps twice")]
    [InlineData("254:0:wbps=0", "wbps '0' is not a size per second")]
    [InlineData("254:0:wbps=fast", "wbps 'fast' is not a size per second")]
    [InlineData("254:0:riops=1.5", "riops '1.5' is not a positive whole number")]
    [InlineData("254:0:wiops=0", "wiops '0' is not a positive whole number")]
    [InlineData("254:0:riops=1k", "riops '1k' is not a positive whole number")]
    public void A_malformed_IO_limit_is_rejected_saying_what_is_wrong(string text, string problemText)
    {
        Assert.False(ValueParsers.TryParseIoLimit(text, out _, out string? problem));
        Assert.Contains(problemText, problem, StringComparison.Ordinal);
    }
}
