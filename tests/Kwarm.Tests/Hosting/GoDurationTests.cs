using Kwarm.Hosting;

namespace Kwarm.Tests.Hosting;

public sealed class GoDurationTests
{
    public static TheoryData<string, TimeSpan> Valid => new()
    {
        { "0", TimeSpan.Zero },
        { "0s", TimeSpan.Zero },
        { "90s", TimeSpan.FromSeconds(90) },
        { "10m", TimeSpan.FromMinutes(10) },
        { "1h", TimeSpan.FromHours(1) },
        { "1h30m", TimeSpan.FromMinutes(90) },
        { "1.5h", TimeSpan.FromMinutes(90) },
        { "2h45m10.5s", new TimeSpan(0, 2, 45, 10, 500) },
        { "300ms", TimeSpan.FromMilliseconds(300) },
        { "1500us", TimeSpan.FromMilliseconds(1.5) },
        { "+5m", TimeSpan.FromMinutes(5) },
        { "1m1m", TimeSpan.FromMinutes(2) },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Parses_go_durations(string text, TimeSpan expected)
    {
        Assert.True(GoDuration.TryParse(text, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("h")]
    [InlineData("1")]
    [InlineData("1d")]
    [InlineData("-1h")]
    [InlineData("1h-30m")]
    [InlineData("1..5s")]
    [InlineData(".s")]
    [InlineData("1 h")]
    [InlineData("1H")]
    [InlineData("99999999999h")]
    [InlineData("9999999999999999999999999h")]
    [InlineData("99999999999999999999999999999999h")]
    public void Rejects_what_go_rejects_and_negatives(string? text) => Assert.False(GoDuration.TryParse(text, out _));

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(3600, "1h")]
    [InlineData(5400, "1h30m")]
    [InlineData(90061, "25h1m1s")]
    [InlineData(45, "45s")]
    public void Formats_the_shortest_go_form(int seconds, string expected)
    {
        var formatted = GoDuration.Format(TimeSpan.FromSeconds(seconds));

        Assert.Equal(expected, formatted);
        Assert.True(GoDuration.TryParse(formatted, out var back));
        Assert.Equal(TimeSpan.FromSeconds(seconds), back);
    }
}
