using System.Net;

namespace Kwarm.Hosting;

/// <summary>The host's own log messages.</summary>
internal static partial class HostLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Kwarm started: webhook on https://{WebhookEndPoint}, metrics on http://{MetricsEndPoint}/metrics, probes on http://{ProbesEndPoint}")]
    public static partial void Started(this ILogger logger, IPEndPoint? webhookEndPoint, IPEndPoint? metricsEndPoint, IPEndPoint? probesEndPoint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information,
        Message = "Settings: max concurrent pulls {MaxConcurrentPulls}, max pulls per node {MaxPullsPerNode}, leader election {LeaderElect}, namespace {Namespace}, tools image {ToolsImage}")]
    public static partial void Settings(this ILogger logger, int maxConcurrentPulls, int maxPullsPerNode, bool leaderElect, string @namespace, string toolsImage);

    [LoggerMessage(EventId = 3, Level = LogLevel.Critical, Message = "Kwarm could not start: {Reason}")]
    public static partial void StartFailed(this ILogger logger, string reason, Exception? exception);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Kwarm stopped")]
    public static partial void Stopped(this ILogger logger);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "Refused {Path}: it is not served on port {LocalPort}")]
    public static partial void RefusedOnPort(this ILogger logger, PathString path, int localPort);
}
