using System.Globalization;
using System.Text;

namespace Kwarm.Hosting;

/// <summary>
/// Go's <c>time.ParseDuration</c> syntax (<c>90s</c>, <c>10m</c>, <c>1h30m</c>, <c>1.5h</c>), the form Kubernetes
/// operators take durations in. Negative durations are rejected: no Kwarm setting means anything by them.
/// </summary>
internal static class GoDuration
{
    private static readonly (string Unit, long Ticks)[] Units =
    [
        // Longest first so that "ms" is not read as "m" followed by garbage.
        ("ns", 0), ("us", 10), ("µs", 10), ("μs", 10), ("ms", TimeSpan.TicksPerMillisecond),
        ("s", TimeSpan.TicksPerSecond), ("m", TimeSpan.TicksPerMinute), ("h", TimeSpan.TicksPerHour),
    ];

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var rest = text.AsSpan();
        if (rest[0] == '+')
        {
            rest = rest[1..];
        }

        if (rest is "0")
        {
            return true;
        }

        decimal totalTicks = 0;
        while (!rest.IsEmpty)
        {
            var numberLength = 0;
            while (numberLength < rest.Length && (char.IsAsciiDigit(rest[numberLength]) || rest[numberLength] == '.'))
            {
                numberLength++;
            }

            if (numberLength == 0 || rest[..numberLength] is "." ||
                !decimal.TryParse(rest[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            {
                return false;
            }

            // Checked before multiplying, so a long run of digits cannot overflow the arithmetic below.
            if (amount > TimeSpan.MaxValue.Ticks)
            {
                return false;
            }

            rest = rest[numberLength..];
            var unit = FindUnit(rest);
            if (unit < 0)
            {
                return false;
            }

            // Nanoseconds are below a tick: they count as a hundredth of one, which rounds away unless there are many.
            totalTicks += Units[unit].Unit == "ns" ? amount / 100 : amount * Units[unit].Ticks;
            if (totalTicks > TimeSpan.MaxValue.Ticks)
            {
                return false;
            }

            rest = rest[Units[unit].Unit.Length..];
        }

        value = TimeSpan.FromTicks((long)decimal.Round(totalTicks));
        return true;
    }

    private static int FindUnit(ReadOnlySpan<char> text)
    {
        for (var index = 0; index < Units.Length; index++)
        {
            if (text.StartsWith(Units[index].Unit, StringComparison.Ordinal))
            {
                return index;
            }
        }

        return -1;
    }

    /// <summary>The shortest Go form of a duration: <c>1h</c>, <c>1h30m</c>, <c>90ms</c>, <c>0s</c>.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        var text = new StringBuilder();
        if (value < TimeSpan.Zero)
        {
            text.Append('-');
            value = value.Duration();
        }

        Append(text, (long)value.TotalHours, "h");
        Append(text, value.Minutes, "m");
        Append(text, value.Seconds, "s");
        Append(text, value.Milliseconds, "ms");
        return text.ToString();
    }

    private static void Append(StringBuilder text, long amount, string unit)
    {
        if (amount != 0)
        {
            text.Append(amount.ToString(CultureInfo.InvariantCulture)).Append(unit);
        }
    }
}
