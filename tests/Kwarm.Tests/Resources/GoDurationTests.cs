using System.Text.RegularExpressions;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("0s", 0L)]
    [InlineData("90s", 90 * TimeSpan.TicksPerSecond)]
    [InlineData("10m", 10 * TimeSpan.TicksPerMinute)]
    [InlineData("1h30m", 90 * TimeSpan.TicksPerMinute)]
    [InlineData("1.5h", 90 * TimeSpan.TicksPerMinute)]
    [InlineData("500ms", 500 * TimeSpan.TicksPerMillisecond)]
    [InlineData("12.5s", 12_500 * TimeSpan.TicksPerMillisecond)]
    [InlineData("1h0m0s", TimeSpan.TicksPerHour)]
    [InlineData("2h45m30.5s", (2 * TimeSpan.TicksPerHour) + (45 * TimeSpan.TicksPerMinute) + (30_500 * TimeSpan.TicksPerMillisecond))]
    [InlineData(".5s", 500 * TimeSpan.TicksPerMillisecond)]
    [InlineData("5.s", 5 * TimeSpan.TicksPerSecond)]
    [InlineData("1us", 10L)]
    [InlineData("1\u00b5s", 10L)]
    [InlineData("1\u03bcs", 10L)]
    [InlineData("250ns", 2L)]
    [InlineData("1ns", 0L)]
    [InlineData("30s30s", 60 * TimeSpan.TicksPerSecond)]
    [InlineData("0.0000001s", 1L)]
    [InlineData("2562047h47m16.854775807s", 92_233_720_368_547_758L)]
    public void Parses_go_durations(string text, long expectedTicks)
    {
        Assert.True(GoDuration.TryParse(text, out var value, out var error), error);

        Assert.Equal(TimeSpan.FromTicks(expectedTicks), value);
        Assert.Equal(value, GoDuration.Parse(text));
    }

    [Theory]
    [InlineData("", "required")]
    [InlineData("ten minutes", "expected a number")]
    [InlineData("10", "missing unit")]
    [InlineData("1h30", "missing unit")]
    [InlineData("10 m", "unknown unit \" m\"")]
    [InlineData("10min", "unknown unit \"min\"")]
    [InlineData("1d", "unknown unit \"d\"")]
    [InlineData("1H", "unknown unit \"H\"")]
    [InlineData("-5m", "negative")]
    [InlineData("+5m", "signed")]
    [InlineData(".s", "expected a number")]
    [InlineData("s", "expected a number")]
    [InlineData("1.5.5s", "missing unit")]
    [InlineData(" 5m", "expected a number")]
    [InlineData("5m ", "unknown unit \"m \"")]
    [InlineData("2562047h47m16.854775808s", "too long")]
    [InlineData("9999999999999999999h", "too large")]
    public void Rejects_what_is_not_a_non_negative_go_duration_with_a_reason(string text, string reason)
    {
        Assert.False(GoDuration.TryParse(text, out _, out var error));

        Assert.Contains(reason, error, StringComparison.Ordinal);
        var exception = Assert.Throws<FormatException>(() => GoDuration.Parse(text));
        Assert.Equal(error, exception.Message);
    }

    [Fact]
    public void Null_is_not_a_duration()
    {
        Assert.False(GoDuration.TryParse(null, out var value));
        Assert.Equal(TimeSpan.Zero, value);
    }

    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(1L, "100ns")]
    [InlineData(10L, "1\u00b5s")]
    [InlineData(15L, "1.5\u00b5s")]
    [InlineData(5_000_000L, "500ms")]
    [InlineData(12_345L, "1.2345ms")]
    [InlineData(125_000_000L, "12.5s")]
    [InlineData(900_000_000L, "1m30s")]
    [InlineData(6_000_000_000L, "10m0s")]
    [InlineData(54_000_000_000L, "1h30m0s")]
    [InlineData(36_000_000_001L, "1h0m0.0000001s")]
    [InlineData(2_160_000_000_000L, "60h0m0s")]
    public void Formats_like_gos_Duration_String(long ticks, string expected)
    {
        Assert.Equal(expected, GoDuration.Format(TimeSpan.FromTicks(ticks)));
    }

    [Fact]
    public void Refuses_to_format_a_negative_duration()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GoDuration.Format(TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public void Every_formatted_value_parses_back_to_itself()
    {
        var random = new Random(20261126);
        for (var i = 0; i < 2_000; i++)
        {
            // Spread over every unit range, from 100 ns to a few hundred hours.
            var ticks = (long)Math.Pow(10, random.NextDouble() * 16);
            var value = TimeSpan.FromTicks(ticks);

            var text = GoDuration.Format(value);

            Assert.True(GoDuration.TryParse(text, out var parsed), text);
            Assert.Equal(value, parsed);
        }
    }

    // The table both the parser and the CRD's general pattern (on the durations Kwarm writes) judge; each must agree.
    [Theory]
    [InlineData("0", true)]
    [InlineData("0s", true)]
    [InlineData("90s", true)]
    [InlineData("10m", true)]
    [InlineData("1h30m", true)]
    [InlineData("1.5h", true)]
    [InlineData("500ms", true)]
    [InlineData("250us", true)]
    [InlineData("250\u00b5s", true)]
    [InlineData("250\u03bcs", true)]
    [InlineData("42ns", true)]
    [InlineData(".5m", true)]
    [InlineData("5.m", true)]
    [InlineData("1h0m0s", true)]
    [InlineData("10m10m", true)]
    [InlineData("", false)]
    [InlineData("ten minutes", false)]
    [InlineData("10", false)]
    [InlineData("00", false)]
    [InlineData("10 m", false)]
    [InlineData(" 10m", false)]
    [InlineData("10m ", false)]
    [InlineData("10M", false)]
    [InlineData("10min", false)]
    [InlineData("1d", false)]
    [InlineData("1w", false)]
    [InlineData("-5m", false)]
    [InlineData("+5m", false)]
    [InlineData(".m", false)]
    [InlineData("m", false)]
    [InlineData("1h30", false)]
    [InlineData("1..5s", false)]
    [InlineData("1,5s", false)]
    [InlineData("PT10M", false)]
    [InlineData("10m\n", false)]
    public void Schema_pattern_and_parser_agree(string text, bool isDuration)
    {
        var pattern = new Regex(OpenApiSchemaConverter.EndAnchorAsInGo(CrdDefinitionTests.DurationPattern(CustomResourceDefinitionFile.PrePullImage, "status.nodes.duration")));

        Assert.Equal(isDuration, GoDuration.TryParse(text, out _));
        Assert.Equal(isDuration, pattern.IsMatch(text));
    }

    // Duration settings (timeout, hold.maxDuration): Go syntax in canonical order, at most 24 hours, refused by the API server beyond.
    [Theory]
    [InlineData("0", true)]
    [InlineData("0s", true)]
    [InlineData("90s", true)]
    [InlineData("10m", true)]
    [InlineData("10m0s", true)]
    [InlineData("1h30m", true)]
    [InlineData("1h0m0s", true)]
    [InlineData("2m30s", true)]
    [InlineData("1.5h", true)]
    [InlineData(".5m", true)]
    [InlineData("5.m", true)]
    [InlineData("500ms", true)]
    [InlineData("1.5\u00b5s", true)]
    [InlineData("42ns", true)]
    [InlineData("24h", true)]
    [InlineData("24.0h", true)]
    [InlineData("24h0m0s", true)]
    [InlineData("23h59m59.999s", true)]
    [InlineData("1440m", true)]
    [InlineData("86400s", true)]
    [InlineData("9999999ms", true)]
    [InlineData("24.5h", false)]
    [InlineData("25h", false)]
    [InlineData("24h1s", false)]
    [InlineData("1441m", false)]
    [InlineData("1440.5m", false)]
    [InlineData("86401s", false)]
    [InlineData("10000000ms", false)]
    [InlineData("99999999h", false)]
    [InlineData("10m10m", false)]
    [InlineData("1h90m", false)]
    [InlineData("90m30s", false)]
    [InlineData("30m1h", false)]
    [InlineData("010m", false)]
    [InlineData("1d", false)]
    [InlineData("", false)]
    [InlineData("10m\n", false)]
    public void Bounded_pattern_accepts_settings_of_at_most_24_hours(string text, bool accepted)
    {
        var pattern = new Regex(OpenApiSchemaConverter.EndAnchorAsInGo(CrdDefinitionTests.DurationPattern(CustomResourceDefinitionFile.PrePullPolicy, "spec.timeout")));
        var instance = Samples.Read(Samples.BasicPolicy);
        JsonTree.Set(instance, "spec.hold.maxDuration", text);

        Assert.Equal(accepted, pattern.IsMatch(text));
        Assert.Equal(accepted, CustomResourceDefinitionFile.PrePullPolicy.Validate(instance).Count == 0);
        if (accepted)
        {
            Assert.True(GoDuration.TryParse(text, out var value) && value <= GoDuration.MaxSetting, text);
        }
    }

    [Fact]
    public void Bounded_pattern_accepts_what_Format_writes_up_to_24_hours_and_nothing_longer()
    {
        var pattern = new Regex(OpenApiSchemaConverter.EndAnchorAsInGo(GoDuration.BoundedPattern));
        var random = new Random(13);
        for (var i = 0; i < 20_000; i++)
        {
            var value = TimeSpan.FromTicks((long)(random.NextDouble() * GoDuration.MaxSetting.Ticks * 2));
            var text = GoDuration.Format(value);

            Assert.True(pattern.IsMatch(text) == (value <= GoDuration.MaxSetting), text);
        }

        Assert.Matches(pattern, GoDuration.Format(GoDuration.MaxSetting));
    }

    [Fact]
    public void Whatever_the_bounded_pattern_accepts_parses_to_at_most_24_hours()
    {
        // Random strings over the pattern's own alphabet, so that most of them come close to matching.
        var pattern = new Regex(OpenApiSchemaConverter.EndAnchorAsInGo(GoDuration.BoundedPattern));
        string[] pieces = ["0", "1", "2", "3", "4", "5", "6", "9", "24", "59", "60", "86400", "1440", ".", "h", "m", "s", "ms", "us", "ns"];
        var random = new Random(7);
        var matched = 0;
        for (var i = 0; i < 200_000; i++)
        {
            var text = string.Concat(Enumerable.Range(0, random.Next(1, 9)).Select(_ => pieces[random.Next(pieces.Length)]));
            if (!pattern.IsMatch(text))
            {
                continue;
            }

            matched++;
            Assert.True(GoDuration.TryParse(text, out var value), text);
            Assert.True(value <= GoDuration.MaxSetting, text);
        }

        Assert.True(matched > 1_000, $"only {matched} random strings matched");
    }

    [Fact]
    public void The_yaml_patterns_are_the_ones_GoDuration_documents()
    {
        Assert.Equal(GoDuration.BoundedPattern, CrdDefinitionTests.DurationPattern(CustomResourceDefinitionFile.PrePullImage, "spec.timeout"));
        Assert.Equal(GoDuration.Pattern, CrdDefinitionTests.DurationPattern(CustomResourceDefinitionFile.PrePullImage, "status.nodes.duration"));
    }

    [Fact]
    public void The_sample_durations_parse()
    {
        var policy = Samples.ToTyped<PrePullPolicy>(Samples.Read(Samples.FullPolicy));

        Assert.Equal(TimeSpan.FromSeconds(330), GoDuration.Parse(policy.Spec.Timeout!));
        Assert.Equal(TimeSpan.FromMinutes(20), GoDuration.Parse(policy.Spec.Hold!.MaxDuration!));
    }
}
