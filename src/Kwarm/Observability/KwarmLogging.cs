using Kwarm.Hosting;
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

    public static ILoggingBuilder AddKwarmConsole(this ILoggingBuilder logging, bool json)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.ClearProviders();
        if (json)
        {
            logging.AddJsonConsole(options =>
            {
                options.UseUtcTimestamp = true;
                options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                options.IncludeScopes = true;
                options.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }
        else
        {
            logging.AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.UseUtcTimestamp = true;
                options.TimestampFormat = "HH:mm:ss.fff ";
                options.ColorBehavior = LoggerColorBehavior.Default;
            });
        }

        // Kestrel's and routing's per-request chatter would drown the operator's own messages.
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        // The generic host logs a failed start with its stack trace; Kwarm's own StartFailed message reports every
        // failed start once, with the exception only when it is a bug rather than a setting the user must fix.
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        return logging;
    }
}
