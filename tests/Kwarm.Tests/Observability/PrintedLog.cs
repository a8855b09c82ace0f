using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Kwarm.Tests.Observability;

/// <summary>
/// A logger provider that runs every entry through one of Kwarm's console formatters and keeps the text, exactly as the
/// process would print it: tests assert on what a person reads.
/// </summary>
internal sealed class PrintedLog(ConsoleFormatter formatter) : ILoggerProvider
{
    private readonly ConcurrentQueue<(int EventId, string Text)> _entries = new();

    /// <summary>What each entry printed (one entry may take several lines when it carries an exception).</summary>
    public IReadOnlyList<string> Entries => [.. _entries.Select(entry => entry.Text)];

    public IReadOnlyList<string> WithEvent(int eventId) => [.. _entries.Where(entry => entry.EventId == eventId).Select(entry => entry.Text)];

    public ILogger CreateLogger(string categoryName) => new Printer(categoryName, formatter, _entries);

    public ILogger<T> CreateLogger<T>()
    {
        var factory = new LoggerFactory();
        factory.AddProvider(this);
        return factory.CreateLogger<T>();
    }

    public void Dispose()
    {
    }

    private sealed class Printer(string category, ConsoleFormatter formatter, ConcurrentQueue<(int, string)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> format)
        {
            using var text = new StringWriter();
            formatter.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, format), null, text);
            entries.Enqueue((eventId.Id, text.ToString()));
        }
    }
}
