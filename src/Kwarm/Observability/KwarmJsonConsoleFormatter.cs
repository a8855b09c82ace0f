using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Kwarm.Observability;

/// <summary>
/// One JSON object per line for log collectors, shaped like .NET's JSON console (<c>Timestamp</c>, <c>EventId</c>,
/// <c>LogLevel</c>, <c>Category</c>, <c>Message</c>, <c>Exception</c> when there is one, <c>State</c> with the named
/// values, <c>Scopes</c> when there are any), with timestamps and durations rendered by <see cref="KwarmLogRendering"/>.
/// </summary>
public sealed class KwarmJsonConsoleFormatter(TimeProvider time) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "kwarm-json";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        ArgumentNullException.ThrowIfNull(textWriter);
        var message = KwarmLogRendering.Message(logEntry.State, logEntry.Exception, logEntry.Formatter);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("Timestamp", KwarmLogRendering.Timestamp(time.GetUtcNow()));
            json.WriteNumber("EventId", logEntry.EventId.Id);
            json.WriteString("LogLevel", logEntry.LogLevel.ToString());
            json.WriteString("Category", logEntry.Category);
            json.WriteString("Message", message);
            if (logEntry.Exception is { } exception)
            {
                json.WriteString("Exception", exception.ToString());
            }

            if (logEntry.State is IReadOnlyCollection<KeyValuePair<string, object?>> values)
            {
                json.WriteStartObject("State");
                json.WriteString("Message", message);
                foreach (var (key, value) in values)
                {
                    WriteValue(json, key, value);
                }

                json.WriteEndObject();
            }

            WriteScopes(json, scopeProvider);
            json.WriteEndObject();
        }

        textWriter.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        textWriter.Write(Environment.NewLine);
    }

    private static void WriteScopes(Utf8JsonWriter json, IExternalScopeProvider? scopeProvider)
    {
        var scopes = new List<object?>();
        scopeProvider?.ForEachScope((scope, list) => list.Add(scope), scopes);
        if (scopes.Count == 0)
        {
            return;
        }

        json.WriteStartArray("Scopes");
        foreach (var scope in scopes)
        {
            if (scope is IEnumerable<KeyValuePair<string, object?>> values)
            {
                json.WriteStartObject();
                json.WriteString("Message", scope.ToString());
                foreach (var (key, value) in values)
                {
                    WriteValue(json, key, value);
                }

                json.WriteEndObject();
            }
            else
            {
                json.WriteStringValue(KwarmLogRendering.Value(scope));
            }
        }

        json.WriteEndArray();
    }

    private static void WriteValue(Utf8JsonWriter json, string key, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(key);
                break;
            case bool flag:
                json.WriteBoolean(key, flag);
                break;
            case int or long or short or byte or uint or ulong or ushort or sbyte:
                json.WriteNumber(key, Convert.ToDecimal(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case double or float or decimal:
                json.WriteNumber(key, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            default:
                json.WriteString(key, KwarmLogRendering.Value(value));
                break;
        }
    }
}
