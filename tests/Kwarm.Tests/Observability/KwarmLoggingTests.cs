using System.Collections.Concurrent;
using System.Text.Json;
using Kwarm.Hosting;
using Kwarm.Observability;
using Kwarm.Tests.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Kwarm.Tests.Observability;

public sealed class KwarmLoggingTests
{
    private static readonly Dictionary<string, string> InCluster = new(StringComparer.Ordinal) { [KwarmLogging.InClusterVariable] = "10.96.0.1" };
    private static readonly Dictionary<string, string> OutsideCluster = new(StringComparer.Ordinal);

    [Theory]
    [InlineData(KwarmLogFormat.Auto, true, true)]
    [InlineData(KwarmLogFormat.Auto, false, false)]
    [InlineData(KwarmLogFormat.Text, true, false)]
    [InlineData(KwarmLogFormat.Json, false, true)]
    public void Json_inside_a_cluster_or_when_asked(KwarmLogFormat format, bool inCluster, bool expectJson) =>
        Assert.Equal(expectJson, KwarmLogging.UsesJson(format, inCluster ? InCluster : OutsideCluster));

    [Fact]
    public void Empty_service_host_variable_is_not_a_cluster() =>
        Assert.False(KwarmLogging.UsesJson(KwarmLogFormat.Auto, new Dictionary<string, string>(StringComparer.Ordinal) { [KwarmLogging.InClusterVariable] = "" }));

    [Theory]
    [InlineData(new string[0], true, KwarmJsonConsoleFormatter.FormatterName)]
    [InlineData(new string[0], false, KwarmTextConsoleFormatter.FormatterName)]
    [InlineData(new[] { "--log-format=text" }, true, KwarmTextConsoleFormatter.FormatterName)]
    [InlineData(new[] { "--log-format", "json" }, false, KwarmJsonConsoleFormatter.FormatterName)]
    public void Host_configures_the_console_formatter(string[] args, bool inCluster, string expectedFormatter)
    {
        using var services = Prepare(args, inCluster ? InCluster : OutsideCluster);

        Assert.Equal(expectedFormatter, services.GetRequiredService<IOptions<ConsoleLoggerOptions>>().Value.FormatterName);
        Assert.Single(services.GetServices<ILoggerProvider>().OfType<ConsoleLoggerProvider>());
        Assert.Single(services.GetServices<ConsoleFormatter>(), formatter => formatter.Name == expectedFormatter);
    }

    [Fact]
    public void Json_formatter_writes_one_structured_object_per_line()
    {
        using var services = Prepare([], InCluster);
        var formatter = services.GetServices<ConsoleFormatter>().Single(candidate => candidate.Name == KwarmJsonConsoleFormatter.FormatterName);
        var output = new StringWriter();
        // The shape [LoggerMessage] produces: the named values, then the template.
        List<KeyValuePair<string, object?>> state = [new("Namespace", "kwarm-system"), new("{OriginalFormat}", "Lease in {Namespace}")];

        formatter.Write(
            new LogEntry<List<KeyValuePair<string, object?>>>(LogLevel.Information, "Kwarm.Hosting", new EventId(7, "Lease"), state, null, (_, _) => "Lease in kwarm-system"),
            new LoggerExternalScopeProvider(),
            output);

        var line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        Assert.Equal("Information", json.RootElement.GetProperty("LogLevel").GetString());
        Assert.Equal("Kwarm.Hosting", json.RootElement.GetProperty("Category").GetString());
        Assert.Equal("Lease in kwarm-system", json.RootElement.GetProperty("Message").GetString());
        Assert.Equal("kwarm-system", json.RootElement.GetProperty("State").GetProperty("Namespace").GetString());
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", json.RootElement.GetProperty("Timestamp").GetString());
    }

    [Fact]
    public async Task Host_logs_where_each_listener_is_bound()
    {
        var recorder = new RecordingLoggerProvider();
        await using var kwarm = await RunningKwarm.StartAsync(builder => builder.Logging.AddProvider(recorder).SetMinimumLevel(LogLevel.Information));
        var webhook = kwarm.Url(KwarmListener.Webhook, "/");
        var metrics = kwarm.Url(KwarmListener.Metrics, "/");

        var started = Assert.Single(recorder.Entries, entry => entry.Category == "Kwarm.Hosting" && entry.EventId == 1);

        Assert.Equal(LogLevel.Information, started.Level);
        Assert.Contains($"webhook on https://127.0.0.1:{webhook.Port}", started.Message, StringComparison.Ordinal);
        Assert.Contains($"metrics on http://127.0.0.1:{metrics.Port}/metrics", started.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Prepare(string[] args, IReadOnlyDictionary<string, string> environment)
    {
        var stderr = new StringWriter();
        var launch = KwarmHost.Prepare(args, environment, TextWriter.Null, stderr, AppContext.BaseDirectory);
        Assert.True(launch.Builder is not null, stderr.ToString());
        return launch.Builder.Services.BuildServiceProvider();
    }

    private sealed record LogRecord(string Category, LogLevel Level, int EventId, string Message);

    private sealed class RecordingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<LogRecord> _entries = new();

        public IReadOnlyList<LogRecord> Entries => [.. _entries];

        public ILogger CreateLogger(string categoryName) => new RecordingLogger(categoryName, _entries);

        public void Dispose()
        {
        }

        private sealed class RecordingLogger(string category, ConcurrentQueue<LogRecord> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new LogRecord(category, logLevel, eventId.Id, formatter(state, exception)));
        }
    }
}
