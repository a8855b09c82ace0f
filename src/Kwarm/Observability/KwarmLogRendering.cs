using System.Collections;
using System.Globalization;
using System.Text;

namespace Kwarm.Observability;

/// <summary>
/// How Kwarm writes the values in its log lines: timestamps in ISO 8601, UTC, to the millisecond
/// (<c>2026-12-03T17:14:24.123Z</c>) and durations in seconds (<c>5.601s</c>), whatever the culture or the type the
/// message passes; .NET's own rendering (<c>12/03/2026 17:14:24 +00:00</c>, <c>00:00:05.6005885</c>) reads as a US
/// date and a clock time. A placeholder with an explicit format (<c>{Until:O}</c>) keeps its format.
/// </summary>
public static class KwarmLogRendering
{
    private const string OriginalFormat = "{OriginalFormat}";

    public static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>A duration in seconds, to the millisecond: <c>5.601s</c>, <c>0.2s</c>, <c>900s</c>.</summary>
    public static string Duration(TimeSpan duration) =>
        duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";

    /// <summary>One value as a log line shows it; null for null.</summary>
    public static string? Value(object? value) => value switch
    {
        null => null,
        string text => text,
        DateTimeOffset time => Timestamp(time),
        DateTime time => Timestamp(time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : DateTime.SpecifyKind(time, DateTimeKind.Utc)),
        TimeSpan duration => Duration(duration),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable items => string.Join(", ", items.Cast<object?>().Select(item => Value(item) ?? "(null)")),
        _ => value.ToString(),
    };

    /// <summary>
    /// The message of a log entry: its template rendered with <see cref="Value"/> when the state carries one (as
    /// <c>[LoggerMessage]</c> and the <c>Log*</c> extensions do), else what the entry's own formatter says.
    /// </summary>
    public static string Message<TState>(TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        return state is IReadOnlyList<KeyValuePair<string, object?>> { Count: > 0 } values
            && values[^1] is { Key: OriginalFormat, Value: string template }
            ? Render(template, values)
            : formatter(state, exception);
    }

    /// <summary>Renders a message template (<c>{Name}</c>, <c>{Name,alignment:format}</c>, <c>{{</c> and <c>}}</c>) with <paramref name="values"/>.</summary>
    public static string Render(string template, IReadOnlyList<KeyValuePair<string, object?>> values)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(values);
        var text = new StringBuilder(template.Length + 32);
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if ((c == '{' || c == '}') && i + 1 < template.Length && template[i + 1] == c)
            {
                text.Append(c);
                i++;
                continue;
            }

            var close = c == '{' ? template.IndexOf('}', i + 1) : -1;
            if (close < 0)
            {
                text.Append(c);
                continue;
            }

            var hole = template[(i + 1)..close];
            var nameEnd = hole.IndexOfAny([',', ':']);
            var name = nameEnd < 0 ? hole : hole[..nameEnd];
            text.Append(Lookup(values, name, out var value)
                ? nameEnd < 0 ? Value(value) ?? "(null)" : string.Format(CultureInfo.InvariantCulture, "{0" + hole[nameEnd..] + "}", value)
                : template[i..(close + 1)]);
            i = close;
        }

        return text.ToString();
    }

    private static bool Lookup(IReadOnlyList<KeyValuePair<string, object?>> values, string name, out object? value)
    {
        foreach (var pair in values)
        {
            if (pair.Key == name)
            {
                value = pair.Value;
                return true;
            }
        }

        value = null;
        return false;
    }
}
