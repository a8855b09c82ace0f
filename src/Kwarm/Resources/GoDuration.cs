using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Kwarm.Resources;

/// <summary>
/// Go-style durations (<c>90s</c>, <c>10m</c>, <c>1h30m</c>, <c>1.5h</c>, <c>500ms</c>) as Go's
/// <c>time.ParseDuration</c> and <c>Duration.String</c> read and write them, restricted to non-negative values:
/// a timeout or an elapsed time in Kwarm's resources is never negative, so a sign is rejected.
/// </summary>
/// <remarks>
/// The CRD schema carries <see cref="BoundedPattern"/> on every duration setting, so that the API server refuses a
/// malformed or absurdly long value, and <see cref="Pattern"/> on the durations Kwarm writes; either way it rejects
/// what <see cref="TryParse(string?, out TimeSpan)"/> would reject. The parser reads any Go duration (up to Go's
/// 2562047h47m16.854775807s); the 24-hour bound of settings is the callers' check.
/// Values are kept at <see cref="TimeSpan"/> precision (100 ns); finer digits are truncated.
/// </remarks>
public static class GoDuration
{
    /// <summary>The regular expression the CRD schema uses for a duration Kwarm writes (<c>status.nodes[].duration</c>).</summary>
    public const string Pattern = @"^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$";

    /// <summary>The longest duration a setting may have (<c>timeout</c>, <c>hold.maxDuration</c>): <see cref="BoundedPattern"/>'s bound.</summary>
    public static readonly TimeSpan MaxSetting = TimeSpan.FromHours(24);

    // The pieces of BoundedPattern. A number never has a leading zero (Go allows one; a bound on digits would not hold).
    private const string Fraction = @"(\.[0-9]*)?";
    private const string UpTo24Hours = @"(24(\.0*)?|(1[0-9]|2[0-3]|[0-9])" + Fraction + @"|\.[0-9]+)h";
    private const string UpTo1440Minutes = @"(1440(\.0*)?|(14[0-3][0-9]|1[0-3][0-9][0-9]|[1-9][0-9]?[0-9]?|0)" + Fraction + @"|\.[0-9]+)m";
    private const string UpTo86400Seconds = @"(86400(\.0*)?|(86[0-3][0-9][0-9]|8[0-5][0-9][0-9][0-9]|[1-7][0-9][0-9][0-9][0-9]|[1-9][0-9]?[0-9]?[0-9]?|0)" + Fraction + @"|\.[0-9]+)s";
    private const string SubSecond = @"(([1-9][0-9]{0,6}|0)" + Fraction + @"|\.[0-9]+)ms|(([1-9][0-9]{0,9}|0)" + Fraction + @"|\.[0-9]+)(us|µs|μs)|([1-9][0-9]{0,12}|0)ns";
    private const string HoursUnder24 = "(1[0-9]|2[0-3]|[0-9])h";
    private const string MinutesUnder60 = "([1-5][0-9]|[0-9])m";
    private const string SecondsUnder60 = "(([1-5][0-9]|[0-9])" + Fraction + @"|\.[0-9]+)s";

    /// <summary>
    /// The CRD's pattern for a duration setting: Go syntax, at most <see cref="MaxSetting"/> (24 hours), so that the API
    /// server itself refuses <c>99999999h</c>. A regular expression cannot add up the parts of any Go duration, so the
    /// pattern accepts a canonical subset, exact in its bound: <c>0</c>; one number with one unit, up to <c>24h</c>,
    /// <c>1440m</c> or <c>86400s</c> (sub-second units up to 7, 10 and 13 digits, under three hours); or hours under 24,
    /// minutes under 60 and seconds under 60 in this order (<c>1h30m</c>, <c>2m30s</c>, <c>1h0m0s</c>), plus
    /// <c>24h0m0s</c>, which is how Go and <see cref="Format"/> write 24 hours. Everything <see cref="Format"/> writes
    /// for a duration up to 24 hours matches. Numbers have no leading zeros.
    /// </summary>
    public const string BoundedPattern = "^(0|" + UpTo24Hours + "|" + UpTo1440Minutes + "|" + UpTo86400Seconds + "|" + SubSecond
        + "|" + HoursUnder24 + MinutesUnder60 + "(" + SecondsUnder60 + ")?"
        + "|" + HoursUnder24 + SecondsUnder60
        + "|" + MinutesUnder60 + SecondsUnder60
        + "|24h(0m0s|0m|0s))$";

    private const long NanosecondsPerTick = 100;
    private const ulong MaxNanoseconds = long.MaxValue;

    // Go accepts both the micro sign (U+00B5) and the Greek small letter mu (U+03BC).
    private static readonly FrozenDictionary<string, ulong> NanosecondsPerUnit = new Dictionary<string, ulong>(StringComparer.Ordinal)
    {
        ["ns"] = 1,
        ["us"] = 1_000,
        ["\u00b5s"] = 1_000,
        ["\u03bcs"] = 1_000,
        ["ms"] = 1_000_000,
        ["s"] = 1_000_000_000,
        ["m"] = 60_000_000_000,
        ["h"] = 3_600_000_000_000,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static bool TryParse([NotNullWhen(true)] string? text, out TimeSpan value) =>
        TryParse(text, out value, out _);

    /// <param name="error">Why <paramref name="text"/> is not a duration, written for a person; null on success.</param>
    public static bool TryParse(
        [NotNullWhen(true)] string? text,
        out TimeSpan value,
        [NotNullWhen(false)] out string? error)
    {
        value = TimeSpan.Zero;
        if (text is null || text.Length == 0)
        {
            error = "a duration is required (for example 90s, 10m or 1h30m)";
            return false;
        }

        if (text == "0")
        {
            error = null;
            return true;
        }

        UInt128 total = 0;
        var position = 0;
        while (position < text.Length)
        {
            if (!TryReadComponent(text, ref position, out var nanoseconds, out error))
            {
                error = $"\"{text}\" is not a Go duration: {error} (for example 90s, 10m, 1h30m or 500ms)";
                return false;
            }

            total += nanoseconds;
            if (total > MaxNanoseconds)
            {
                error = $"\"{text}\" is too long: a Go duration is at most 2562047h47m16.854775807s";
                return false;
            }
        }

        value = TimeSpan.FromTicks((long)(total / NanosecondsPerTick));
        error = null;
        return true;
    }

    /// <exception cref="FormatException"><paramref name="text"/> is not a non-negative Go duration.</exception>
    public static TimeSpan Parse(string text) =>
        TryParse(text, out var value, out var error) ? value : throw new FormatException(error);

    /// <summary>Writes <paramref name="value"/> the way Go's <c>Duration.String</c> does: <c>1h30m0s</c>, <c>12.5s</c>, <c>500ms</c>, <c>0s</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative: the schema would reject it.</exception>
    public static string Format(TimeSpan value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        var nanoseconds = (ulong)value.Ticks * NanosecondsPerTick;
        if (nanoseconds < 1_000)
        {
            return nanoseconds.ToString(CultureInfo.InvariantCulture) + "ns";
        }

        if (nanoseconds < 1_000_000)
        {
            return FormatFraction(nanoseconds, 3) + "\u00b5s";
        }

        if (nanoseconds < 1_000_000_000)
        {
            return FormatFraction(nanoseconds, 6) + "ms";
        }

        var seconds = FormatFraction(nanoseconds, 9) + "s";
        var wholeSeconds = nanoseconds / 1_000_000_000;
        var totalMinutes = wholeSeconds / 60;
        if (totalMinutes == 0)
        {
            return seconds;
        }

        var hours = totalMinutes / 60;
        var minutes = totalMinutes % 60;
        var builder = new StringBuilder();
        if (hours > 0)
        {
            builder.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }

        builder.Append(minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        return builder.Append(FormatFraction(nanoseconds % 60_000_000_000, 9)).Append('s').ToString();
    }

    /// <summary>
    /// The whole part of <paramref name="value"/> / 10^<paramref name="digits"/>, followed by the fractional digits
    /// without trailing zeros (and without the point when they are all zero), as Go's <c>fmtFrac</c>/<c>fmtInt</c>.
    /// </summary>
    private static string FormatFraction(ulong value, int digits)
    {
        var scale = (ulong)Math.Pow(10, digits);
        var whole = value / scale;
        var fraction = value % scale;
        var text = whole.ToString(CultureInfo.InvariantCulture);
        if (fraction == 0)
        {
            return text;
        }

        var fractionText = fraction.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0').TrimEnd('0');
        return text + "." + fractionText;
    }

    private static bool TryReadComponent(string text, ref int position, out UInt128 nanoseconds, [NotNullWhen(false)] out string? error)
    {
        nanoseconds = 0;
        var start = position;
        UInt128 whole = 0;
        while (position < text.Length && char.IsAsciiDigit(text[position]))
        {
            whole = (whole * 10) + (uint)(text[position] - '0');
            if (whole > MaxNanoseconds)
            {
                error = "a number is too large";
                return false;
            }

            position++;
        }

        var hasWholeDigits = position > start;
        UInt128 fraction = 0;
        UInt128 fractionScale = 1;
        var hasFractionDigits = false;
        if (position < text.Length && text[position] == '.')
        {
            position++;
            while (position < text.Length && char.IsAsciiDigit(text[position]))
            {
                // Digits past 10^-18 cannot change the result at 100 ns precision; Go also stops accumulating them.
                if (fractionScale < 1_000_000_000_000_000_000)
                {
                    fraction = (fraction * 10) + (uint)(text[position] - '0');
                    fractionScale *= 10;
                }

                hasFractionDigits = true;
                position++;
            }
        }

        if (!hasWholeDigits && !hasFractionDigits)
        {
            error = position < text.Length && (text[position] is '-' or '+')
                ? "a negative or signed duration is not allowed"
                : $"expected a number at \"{text[start..]}\"";
            return false;
        }

        var unitStart = position;
        while (position < text.Length && !char.IsAsciiDigit(text[position]) && text[position] != '.')
        {
            position++;
        }

        var unit = text[unitStart..position];
        if (unit.Length == 0)
        {
            error = $"missing unit after \"{text[start..position]}\" (use ns, us, ms, s, m or h)";
            return false;
        }

        if (!NanosecondsPerUnit.TryGetValue(unit, out var perUnit))
        {
            error = $"unknown unit \"{unit}\" (use ns, us, ms, s, m or h)";
            return false;
        }

        nanoseconds = (whole * perUnit) + (fraction * perUnit / fractionScale);
        if (nanoseconds > MaxNanoseconds)
        {
            error = $"\"{text[start..position]}\" is too large";
            return false;
        }

        error = null;
        return true;
    }
}
