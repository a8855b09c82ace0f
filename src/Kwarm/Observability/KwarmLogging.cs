using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Console;

namespace Kwarm.Observability;

/// <summary>Structured console logs: one JSON object per line in a cluster (for log collectors), one readable line elsewhere.</summary>
public static class KwarmLogging
{
    /// <summary>Set by the kubelet in every pod: the sign that Kwarm runs inside a cluster.</summary>
    public const string InClusterVariable = "KUBERNETES_SERVICE_HOST";

    public static bool UsesJson(KwarmLogFormat format, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return format switch
        {
            KwarmLogFormat.Json => true,
            KwarmLogFormat.Text => false,
            _ => environment.TryGetValue(InClusterVariable, out var host) && host.Length > 0,
        };
    }

    /// <summary>
    /// Console logs in Kwarm's own formats (<see cref="KwarmJsonConsoleFormatter"/> or <see cref="KwarmTextConsoleFormatter"/>):
    /// ISO 8601 UTC timestamps and durations in seconds in every line, whichever component logs.
    /// </summary>
    public static ILoggingBuilder AddKwarmConsole(this ILoggingBuilder logging, bool json)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.ClearProviders();
        logging.AddConsole(options => options.FormatterName = json ? KwarmJsonConsoleFormatter.FormatterName : KwarmTextConsoleFormatter.FormatterName);

        // Registered directly rather than through AddConsoleFormatter, which binds formatter options from configuration
        // by reflection (NativeAOT); these formatters have no options.
        logging.Services.TryAddSingleton(TimeProvider.System);
        logging.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, KwarmTextConsoleFormatter>());
        logging.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, KwarmJsonConsoleFormatter>());

        // Kestrel's and routing's per-request chatter would drown the operator's own messages.
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        // The generic host logs a failed start with its stack trace; Kwarm reports every failed start once itself
        // (KwarmHost.StartKwarmAsync): one line when it is a setting the user must fix, the exception when it is a bug.
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        return logging;
    }
}
