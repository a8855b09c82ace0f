using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Kwarm.Observability;

/// <summary>
/// One readable line per entry: <c>2026-12-03T17:14:24.123Z info: Kwarm.Holds.HoldController[5002] Released ...</c>,
/// values rendered by <see cref="KwarmLogRendering"/>; an exception (a bug, not an expected API error) follows on the
/// next lines.
/// </summary>
public sealed class KwarmTextConsoleFormatter(TimeProvider time) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "kwarm-text";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        ArgumentNullException.ThrowIfNull(textWriter);
        var message = KwarmLogRendering.Message(logEntry.State, logEntry.Exception, logEntry.Formatter);
        textWriter.Write(KwarmLogRendering.Timestamp(time.GetUtcNow()));
        textWriter.Write(' ');
        textWriter.Write(LevelName(logEntry.LogLevel));
        textWriter.Write(": ");
        textWriter.Write(logEntry.Category);
        textWriter.Write('[');
        textWriter.Write(logEntry.EventId.Id);
        textWriter.Write("] ");
        textWriter.Write(message);
        if (logEntry.Exception is { } exception)
        {
            textWriter.Write(Environment.NewLine);
            textWriter.Write(exception.ToString());
        }

        textWriter.Write(Environment.NewLine);
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}
